return await Strata.Cli.StrataCli.RunAsync(args, Strata.Cli.CliEnvironment.ForTerminal(), CancellationToken.None).ConfigureAwait(false);
