using Strata.Linearizability.Models;
using Strata.Namespace;
using Strata.Namespace.Commands;
using Xunit.Abstractions;

namespace Strata.Cluster.Tests;

/// <summary>
/// Concurrent clients do register operations through random nodes of a 3-node cluster while leaders are killed and
/// restarted, isolated by partitions and asked to hand over leadership — or while nodes join and leaders and
/// followers are decommissioned (replicas moving by joint consensus); the recorded history must be linearizable.
/// </summary>
/// <remarks>
/// A register is an object: its value is the object's <c>Size</c>. A write is a PutObject of a value no other write
/// uses; a read is a Stat through <see cref="ClusterNode.ReadAsync{T}(ulong, Func{NamespaceReader, T}, CancellationToken)"/>
/// (lease or ReadIndex); a compare-and-set from value v is a PutObject with if-generation-match g, where g is the
/// generation the client saw holding v (values are unique, so "generation is g" is "value is v"). A call whose
/// outcome is unknown is indeterminate; a refusal (no leader, no replica) did nothing and is dropped; a read whose
/// node died under it is dropped (a dead process answers nobody). A refused call is retried on another node after a
/// short backoff, so the fixed operation counts pace the faults.
/// </remarks>
public sealed class LinearizabilityTests(ITestOutputHelper output)
{
    private const string Bucket = "lin";
    private const int Clients = 5;
    private const int MaxAttempts = 300;
    private static readonly string[] Keys = ["k0", "k1", "k2"];

    [Fact]
    public Task HistoriesUnderLeaderFaultsAreLinearizable() => RunHistoriesAsync(membership: false);

    [Fact]
    public Task HistoriesUnderMembershipChangesAreLinearizable() => RunHistoriesAsync(membership: true);

    private async Task RunHistoriesAsync(bool membership)
    {
        for (int i = 0; i < ClusterTestKnobs.Histories; i++)
        {
            int seed = ClusterTestKnobs.Seed + i;
            try
            {
                await RunHistoryAsync(seed, ClusterTestKnobs.OperationsPerClient, membership);
            }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException($"history with seed {seed} (replay: STRATA_CLUSTER_SEED={seed}) failed: {e}");
            }
        }
    }

    private async Task RunHistoryAsync(int seed, int operationsPerClient, bool membership)
    {
        await using var cluster = new TestCluster(nodes: 3, shards: 1, configure: o => o with
        {
            ProposalTimeout = TimeSpan.FromSeconds(2),
            ReadTimeout = TimeSpan.FromSeconds(1),
            RandomSeed = (ulong)seed,
        });
        await cluster.WaitReadyAsync();
        ulong shard = cluster.ShardOf(Bucket);
        Assert.Equal(ResultCode.ResultOk, (await TestCluster.ProposeWithRetryAsync(cluster[await cluster.LeaderAsync(shard)], shard, TestCluster.CreateBucket(Bucket))).Code);

        var history = new RegisterHistory();
        var run = new Run(cluster, shard, history);
        Task[] clients = [.. Enumerable.Range(0, Clients).Select(c => Task.Run(() => ClientAsync(run, c, seed, operationsPerClient)))];
        Task all = Task.WhenAll(clients);
        IFaultSchedule faults = membership
            ? new MembershipSchedule(cluster, shard, run, all, output)
            : new FaultSchedule(cluster, shard, new Random(seed), run, all, output);
        int faultsInjected = await faults.RunAsync(every: Clients * operationsPerClient / (membership ? 6 : 12));
        await all;
        await faults.HealAndRestartAsync();

        (IReadOnlyList<string> illegal, int undecided) = history.Check(TimeSpan.FromSeconds(30));
        output.WriteLine($"seed {seed}: {history.Count} operations ({history.Indeterminate} indeterminate, {run.Dropped} reads dropped, {run.Refused} refusals retried), {faultsInjected} faults: {string.Join(", ", faults.Log)}");
        Assert.True(illegal.Count == 0, $"seed {seed}: not linearizable:\n{string.Join("\n", illegal)}");
        Assert.True(undecided == 0, $"seed {seed}: the checker could not decide {undecided} keys");
        Assert.True(faultsInjected >= 3, $"seed {seed}: only {faultsInjected} faults were injected");
        Assert.True(history.Count - history.Indeterminate >= Clients * operationsPerClient / 2,
            $"seed {seed}: only {history.Count - history.Indeterminate} of {Clients * operationsPerClient} operations completed");
    }

    private static async Task ClientAsync(Run run, int client, int seed, int operations)
    {
        var random = new Random(seed * 31 + client);
        var known = new Dictionary<string, (long Value, ulong Generation)>();
        for (int i = 0; i < operations; i++)
        {
            string key = Keys[random.Next(Keys.Length)];
            int roll = random.Next(100);
            long value = ((client + 1) * 1_000_000L) + i;
            // A refusal (no leader yet, an election under way) did nothing: back off and try another node, so the
            // operation counts pace the faults instead of being spent on refusals.
            for (int attempt = 0; ; attempt++)
            {
                ClusterNode node = run.Cluster.PickRunning(random);
                bool answered;
                if (roll < 40)
                {
                    answered = await ReadAsync(run, client, node, key, known);
                }
                else if (roll < 75 || !known.TryGetValue(key, out (long Value, ulong Generation) seen))
                {
                    answered = await WriteAsync(run, client, node, key, CasRegisterInput.Write(value), null, known);
                }
                else
                {
                    answered = await WriteAsync(run, client, node, key, CasRegisterInput.Cas(seen.Value, value), seen.Generation, known);
                }

                if (answered || attempt == MaxAttempts)
                {
                    break;
                }

                run.Refuse();
                await Task.Delay(10);
            }

            run.OperationDone();
        }
    }

    /// <summary>Reads the register; false when the node refused (nothing done).</summary>
    private static async Task<bool> ReadAsync(Run run, int client, ClusterNode node, string key, Dictionary<string, (long, ulong)> known)
    {
        long call = run.History.Now();
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(3));
            (long? value, ulong generation) = await node.ReadAsync(run.Shard, reader => StatRegister(reader, key), timeout.Token);
            if (!run.Cluster.IsRunning(node))
            {
                run.Drop(); // the node was killed under the read: a dead process answers nobody
                return true;
            }

            run.History.Completed(client, key, CasRegisterInput.Read(), CasRegisterOutput.ReadResult(value), call);
            if (value is { } v)
            {
                known[key] = (v, generation);
            }
            else
            {
                known.Remove(key);
            }

            return true;
        }
        catch (Exception e) when (CallOutcome.NothingDone(e))
        {
            return false;
        }
        catch (Exception e) when (CallOutcome.Unknown(e))
        {
            run.Drop(); // a read that did not answer changed nothing
            return true;
        }
    }

    /// <summary>Writes (or compares-and-sets) the register; false when the node refused (nothing done).</summary>
    private static async Task<bool> WriteAsync(Run run, int client, ClusterNode node, string key, CasRegisterInput input, ulong? ifGeneration,
        Dictionary<string, (long, ulong)> known)
    {
        var put = new PutObject { Bucket = Bucket, Path = key, Attributes = new ObjectAttributes { Size = (ulong)input.Value } };
        if (ifGeneration is { } generation)
        {
            put.Preconditions = new Preconditions { IfGenerationMatch = generation };
        }

        long call = run.History.Now();
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(3));
            CommandResult result = await node.ProposeAsync(run.Shard, new Command { Put = put }, timeout.Token);
            if (!run.Cluster.IsRunning(node))
            {
                run.History.Unknown(client, key, input, call); // the answer of a process that died is never received
                known.Remove(key);
                return true;
            }

            switch (result.Code)
            {
                case ResultCode.ResultOk:
                    run.History.Completed(client, key, input,
                        input.Kind == CasRegisterOp.Cas ? CasRegisterOutput.CasResult(true) : CasRegisterOutput.WriteDone, call);
                    known[key] = (input.Value, result.Entry.Generation);
                    break;
                case ResultCode.ResultFailedPrecondition when input.Kind == CasRegisterOp.Cas:
                    run.History.Completed(client, key, input, CasRegisterOutput.CasResult(false), call);
                    known.Remove(key);
                    break;
                default:
                    throw new InvalidOperationException($"unexpected result {result.Code}: {result.Message}");
            }

            return true;
        }
        catch (Exception e) when (CallOutcome.NothingDone(e))
        {
            return false;
        }
        catch (Exception e) when (CallOutcome.Unknown(e))
        {
            run.History.Unknown(client, key, input, call);
            known.Remove(key);
            return true;
        }
    }

    private static (long? Value, ulong Generation) StatRegister(NamespaceReader reader, string key)
    {
        try
        {
            EntryInfo entry = reader.Stat(Bucket, key);
            return ((long)entry.Attributes.Size, entry.Generation);
        }
        catch (CommandRejectedException e) when (e.Code == ResultCode.ResultNotFound)
        {
            return (null, 0);
        }
    }

    /// <summary>The shared state of one history's clients and fault schedule.</summary>
    internal sealed class Run(TestCluster cluster, ulong shard, RegisterHistory history) : IOperationProgress
    {
        private int _completed;
        private int _dropped;
        private int _refused;

        public TestCluster Cluster { get; } = cluster;

        public ulong Shard { get; } = shard;

        public RegisterHistory History { get; } = history;

        public int Completed => Volatile.Read(ref _completed);

        public int Dropped => Volatile.Read(ref _dropped);

        public void OperationDone() => Interlocked.Increment(ref _completed);

        public int Refused => Volatile.Read(ref _refused);

        public void Drop() => Interlocked.Increment(ref _dropped);

        public void Refuse() => Interlocked.Increment(ref _refused);
    }
}
