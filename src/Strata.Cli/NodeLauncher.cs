using Spectre.Console;
using Strata.Server;

namespace Strata.Cli;

/// <summary>Starts a node for <c>strata start</c> and <c>strata demo</c>, and prints how to reach it.</summary>
internal static class NodeLauncher
{
    /// <summary>Starts the node; a bad host is a usage error, anything else that stops it (port taken, data locked) exits 1.</summary>
    public static async Task<StrataServer> StartAsync(StrataServerOptions options, CancellationToken cancellationToken)
    {
        if (options.Port is < 0 or > 65535)
        {
            throw new UsageException($"--port {options.Port} is outside 0..65535");
        }

        try
        {
            return await StrataServer.StartAsync(options, cancellationToken).ConfigureAwait(false);
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            string where = options.InMemory ? "" : $" (data directory {Path.GetFullPath(options.DataDirectory)})";
            throw new CommandFailedException($"cannot start the node on {options.Host}:{options.Port}{where}: {e.GetBaseException().Message}");
        }
    }

    /// <summary>A node's address as users type it (no trailing slash).</summary>
    public static string Display(Uri address) => address.ToString().TrimEnd('/');

    /// <summary>The address, health service and data directory of a running node, and the first command to try.</summary>
    public static void WriteBanner(CliEnvironment env, StrataServer server, string? dataNote = null)
    {
        string data = server.DataDirectory.Length == 0 ? "in memory (everything is lost when the node stops)" : server.DataDirectory;
        var grid = new Grid().AddColumn(new GridColumn().NoWrap().PadRight(2)).AddColumn();
        grid.AddRow("gRPC address", $"[bold]{Markup.Escape(Display(server.Address))}[/]  (service strata.v1.Strata, HTTP/2 cleartext)");
        Strata.Cluster.Meta.NodeRecord? self = server.Node.Options.Members.FirstOrDefault(m => m.Id == server.Node.NodeId);
        grid.AddRow("node", Markup.Escape($"{server.Node.NodeId} of cluster '{server.Node.Options.ClusterId}'"
            + (server.Node.Options.Joining ? " (joined)" : "")
            + (string.IsNullOrEmpty(self?.RaftAddress) ? "" : $"; other nodes reach it at {self.RaftAddress}")));
        grid.AddRow("health", $"grpc.health.v1.Health at the same address (services \"\" and \"{StrataServer.HealthServiceName}\")");
        grid.AddRow("data directory", Markup.Escape(data + (dataNote is null ? "" : $" ({dataNote})")));
        if (server.MetricsAddress is { } metrics)
        {
            grid.AddRow("operations", Markup.Escape($"{Display(metrics)}/metrics (Prometheus), {Display(metrics)}/healthz"));
        }
        grid.AddRow("try", Markup.Escape($"strata bucket ls --address {Display(server.Address)}"));
        env.Console.Write(new Panel(grid).Header("Strata node running").Border(BoxBorder.Rounded));
        env.Console.MarkupLine("Press [bold]Ctrl+C[/] to stop.");
    }

    /// <summary>
    /// Serves until Ctrl+C (or SIGTERM), then stops the node gracefully. When the node stops by itself — its storage
    /// failed: an fsync that failed, corruption found — the process does not linger half-alive: it closes the server and
    /// fails with <see cref="ExitCodes.NodeFailed"/>, so that a supervisor restarts it and recovery runs from what was
    /// durable (an fsync is never retried: after a failed one the kernel may have dropped the dirty pages).
    /// </summary>
    /// <exception cref="CommandFailedException">The node stopped after a storage failure.</exception>
    public static async Task ServeUntilStoppedAsync(CliEnvironment env, StrataServer server, CancellationToken cancellationToken)
    {
        try
        {
            await Task.WhenAny(server.WaitForShutdownAsync(cancellationToken), server.Node.Stopped).Unwrap().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl+C reached the command line first; stopping is the same either way.
        }

        if (server.Node.Failure is { } failure)
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw new CommandFailedException(
                $"the node stopped after a storage failure: {Describe(failure)}; nothing it acknowledged is lost — restart it over " +
                $"the same data directory ({server.DataDirectory}) to recover", ExitCodes.NodeFailed);
        }

        env.Out.WriteLine("stopping...");
        await server.DisposeAsync().ConfigureAwait(false);
        env.Out.WriteLine("stopped");
    }

    /// <summary>The failure and its causes, innermost last (the storage engine's own message is usually the innermost).</summary>
    private static string Describe(Exception failure)
    {
        var parts = new List<string>();
        for (Exception? e = failure; e is not null && parts.Count < 4; e = e.InnerException)
        {
            parts.Add(e.Message);
        }

        return string.Join(": ", parts);
    }
}
