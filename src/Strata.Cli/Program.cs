return Strata.Cli.StrataCommand.Run(args);
