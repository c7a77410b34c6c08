using System.Globalization;

namespace Strata.Cluster.Tests;

/// <summary>
/// Environment knobs of the fault tests. The defaults keep each test to a few seconds on a small machine; raise them
/// for a long run, e.g. <c>STRATA_CLUSTER_HISTORIES=50 STRATA_CLUSTER_OPS=200 dotnet test ...</c>.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><c>STRATA_CLUSTER_SEED</c>: the first seed (default 20261126); history i uses seed + i. A failing test
/// prints its seed: rerun with it to replay the same client choices and fault schedule (thread timing still varies).</item>
/// <item><c>STRATA_CLUSTER_HISTORIES</c>: linearizability histories per run (default 2).</item>
/// <item><c>STRATA_CLUSTER_OPS</c>: operations per client in each history (default 60).</item>
/// <item><c>STRATA_CLUSTER_LEASE_ROUNDS</c>: partition rounds of the lease-safety tests (default 3).</item>
/// </list>
/// </remarks>
internal static class ClusterTestKnobs
{
    public static int Seed => Read("STRATA_CLUSTER_SEED", 20261126);

    public static int Histories => Read("STRATA_CLUSTER_HISTORIES", 2);

    public static int OperationsPerClient => Read("STRATA_CLUSTER_OPS", 60);

    public static int LeaseRounds => Read("STRATA_CLUSTER_LEASE_ROUNDS", 3);

    private static int Read(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value > 0
            ? value
            : fallback;
}
