using System.Globalization;
using System.Text;

namespace Strata.Consensus.Tests;

/// <summary>
/// Script-style scenarios: each file in <c>Scenarios/</c> is a sequence of commands, each followed by <c>----</c> and
/// the output it must print. Set <c>STRATA_REWRITE=1</c> to regenerate the expected output after a deliberate change
/// (then review the diff). Commands:
/// <list type="bullet">
/// <item><c>cluster N [prevote=false] [checkquorum=false] [lease]</c> — a new cluster of N voters</item>
/// <item><c>campaign ID</c>, <c>propose ID TEXT</c>, <c>tick ID|all [COUNT]</c>, <c>isolate ID</c>, <c>heal</c>,
/// <c>transfer ID TARGET</c>, <c>read ID CTX</c>, <c>add-learner ID NEW</c>, <c>add-voter ID NEW</c>,
/// <c>remove ID NODE</c>, <c>compact ID</c> — act, then run the cluster until quiet</item>
/// <item><c>status</c> — role, term, leader, commit and applied of every node; <c>applied ID</c>; <c>conf ID</c>;
/// <c>reads ID</c>; <c>lease</c> — who holds a valid lease</item>
/// </list>
/// </summary>
public sealed class ScenarioTests
{
    public static TheoryData<string> Files() =>
        [.. Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Scenarios"), "*.txt").Select(f => Path.GetFileName(f)).Order()];

    [Theory]
    [MemberData(nameof(Files))]
    public void Scenario(string file)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Scenarios", file);
        var blocks = Parse(File.ReadAllText(path));
        TestCluster? cluster = null;
        var rewritten = new StringBuilder();
        foreach (var (comments, command, expected) in blocks)
        {
            var actual = Run(ref cluster, command).TrimEnd();
            rewritten.Append(comments).Append(command).Append("\n----\n").Append(actual).Append("\n\n");
            if (Environment.GetEnvironmentVariable("STRATA_REWRITE") is null)
            {
                Assert.True(expected == actual, $"{file}: `{command}`\nexpected:\n{expected}\nactual:\n{actual}");
            }
        }

        if (Environment.GetEnvironmentVariable("STRATA_REWRITE") is not null)
        {
            var source = Path.Combine(SourceDirectory(), "Scenarios", file);
            File.WriteAllText(source, rewritten.ToString().TrimEnd() + "\n");
        }
    }

    private static List<(string Comments, string Command, string Expected)> Parse(string text)
    {
        var blocks = new List<(string, string, string)>();
        var comments = new StringBuilder();
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].StartsWith('#'))
            {
                comments.Append(lines[i]).Append('\n');
                continue;
            }

            if (lines[i].Length == 0)
            {
                continue;
            }

            var command = lines[i];
            if (i + 1 >= lines.Length || lines[i + 1] != "----")
            {
                throw new FormatException($"expected ---- after `{command}`");
            }

            i += 2;
            var expected = new List<string>();
            while (i < lines.Length && lines[i].Length > 0)
            {
                expected.Add(lines[i++]);
            }

            blocks.Add((comments.ToString(), command, string.Join('\n', expected)));
            comments.Clear();
        }

        return blocks;
    }

    private static string Run(ref TestCluster? c, string command)
    {
        var args = command.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        ulong Id(int i) => ulong.Parse(args[i], CultureInfo.InvariantCulture);
        if (args[0] == "cluster")
        {
            var preVote = !args.Contains("prevote=false");
            var checkQuorum = !args.Contains("checkquorum=false");
            var lease = args.Contains("lease");
            c = new TestCluster(int.Parse(args[1], CultureInfo.InvariantCulture), (_, cfg) => cfg with
            {
                PreVote = preVote,
                CheckQuorum = checkQuorum,
                ReadOnlyOption = lease ? ReadOnlyOption.LeaseBased : ReadOnlyOption.Safe,
                LeaseDriftMarginTicks = 3,
            });
            return "ok";
        }

        var cluster = c ?? throw new InvalidOperationException("no cluster yet");
        switch (args[0])
        {
            case "campaign":
                cluster.Elect(Id(1));
                return Status(cluster);
            case "propose":
                return cluster.Propose(Id(1), args[2]).ToString();
            case "tick":
                var count = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 1;
                if (args[1] == "all")
                {
                    cluster.TickAll(count);
                }
                else
                {
                    cluster.Tick(Id(1), count);
                }

                return Status(cluster);
            case "isolate":
                cluster.Isolate(Id(1));
                return "ok";
            case "heal":
                cluster.Heal();
                return "ok";
            case "transfer":
                var outcome = cluster[Id(1)].TransferLeader(Id(2));
                cluster.Stabilize();
                return $"{outcome}\n{Status(cluster)}";
            case "read":
                var read = cluster[Id(1)].ReadIndex(Encoding.UTF8.GetBytes(args[2]));
                cluster.Stabilize();
                return read.ToString();
            case "add-learner" or "add-voter" or "remove":
                if (args[0] == "add-learner" && !cluster.Nodes.ContainsKey(Id(2)))
                {
                    cluster.Start(Id(2), new MemoryRaftLog());
                }

                var change = args[0] switch
                {
                    "add-learner" => ConfChange.AddLearner(Id(2)),
                    "add-voter" => ConfChange.AddVoter(Id(2)),
                    _ => ConfChange.Remove(Id(2)),
                };
                var result = cluster[Id(1)].ProposeConfChange(change);
                cluster.Stabilize();
                return result.ToString();
            case "compact":
                cluster.Compact(Id(1));
                return $"first index {cluster.Logs[Id(1)].FirstIndex}";
            case "status":
                return Status(cluster);
            case "applied":
                return string.Join(' ', cluster.Applied[Id(1)]);
            case "conf":
                return cluster[Id(1)].ConfState.ToString();
            case "reads":
                return string.Join('\n', cluster.Reads[Id(1)].Select(r => $"index {r.Index} ctx {Encoding.UTF8.GetString(r.Context.Span)}"));
            case "lease":
                var holders = cluster.Nodes.Where(n => n.Value.HasValidLease).Select(n => n.Key.ToString(CultureInfo.InvariantCulture)).ToList();
                return holders.Count == 0 ? "no lease" : $"lease held by {string.Join(',', holders)}";
            default:
                throw new FormatException($"unknown command `{command}`");
        }
    }

    private static string Status(TestCluster c) => string.Join('\n', c.Nodes.OrderBy(n => n.Key).Select(n =>
        $"{n.Key}: {n.Value.Role} term={n.Value.Term} leader={n.Value.Leader} commit={n.Value.Committed} applied={n.Value.Applied}"));

    private static string SourceDirectory([System.Runtime.CompilerServices.CallerFilePath] string path = "") =>
        Path.GetDirectoryName(path)!;
}
