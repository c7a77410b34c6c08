using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Strata.Consensus;
using Strata.Replication;
using Strata.Storage;

namespace Strata.Transport.Tests;

/// <summary>Real replication hosts (<see cref="Store"/>) over real TCP: elect a leader, commit, apply everywhere.</summary>
public sealed class StoreOverTcpTests
{
    private const ulong Group = 101;

    [Fact]
    public async Task Three_stores_over_tcp_elect_a_leader_and_commit_proposals_on_every_node()
    {
        // Each drive loop sleeps until its transport says a frame arrived or its next tick is due.
        var wakes = new[] { new WakeSignal(), new WakeSignal(), new WakeSignal() };
        var transports = await TestNodes.StartMesh(
            [.. wakes.Select((wake, i) => TestNodes.Options((ulong)i + 1) with { FrameArrived = wake.Set })]);
        var nodes = new List<StoreNode>();
        try
        {
            for (var i = 0; i < transports.Length; i++)
            {
                var self = transports[i].LocalNode;
                nodes.Add(new StoreNode(transports[i], [.. transports.Select(t => t.LocalNode).Where(n => n != self)], wakes[i]));
            }

            ulong leader = 0;
            await Eventually.Until(
                async () =>
                {
                    var leaders = new List<ulong>();
                    foreach (var node in nodes)
                    {
                        if (await node.Read(s => s.Find(Group)!.Role == StateRole.Leader))
                        {
                            leaders.Add(node.Id);
                        }
                    }

                    leader = leaders.Count == 1 ? leaders[0] : 0;
                    return leader != 0;
                },
                "one leader elected over TCP");

            var leaderNode = nodes.Single(n => n.Id == leader);
            var commands = Enumerable.Range(0, 20).Select(i => $"put-{i}").ToList();
            foreach (var command in commands)
            {
                var outcome = await leaderNode.Read(s => s.Propose(Group, Encoding.UTF8.GetBytes(command)));
                Assert.Equal(ProposalOutcome.Appended, outcome);
            }

            await Eventually.Until(
                async () =>
                {
                    foreach (var node in nodes)
                    {
                        if (await node.Read(_ => node.Machine.Commands.Count) != commands.Count)
                        {
                            return false;
                        }
                    }

                    return true;
                },
                "every node applied every command");
            foreach (var node in nodes)
            {
                Assert.Equal(commands, await node.Read(_ => node.Machine.Commands.ToList()));
            }

            Assert.All(transports, t => Assert.All(t.Links, l => Assert.Equal(0, l.CorruptRecords)));
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }

            await TestNodes.DisposeAll(transports);
            foreach (var wake in wakes)
            {
                wake.Dispose();
            }
        }
    }

    /// <summary>
    /// One store and its drive loop: the loop owns the store (all calls happen on it), steps when a frame arrives
    /// or the 10 ms tick is due, and runs what the test asks through <see cref="Read{T}"/>.
    /// </summary>
    private sealed class StoreNode : IAsyncDisposable
    {
        private static readonly TimeSpan TickInterval = TimeSpan.FromMilliseconds(10);
        private readonly WakeSignal _wake;
        private readonly ConcurrentQueue<Action> _work = new();
        private readonly CancellationTokenSource _stop = new();
        private readonly InMemoryKvEngine _engine = new();
        private readonly Store _store;
        private readonly Task _loop;

        public StoreNode(TcpTransport transport, ulong[] peers, WakeSignal wake)
        {
            Id = transport.LocalNode;
            _wake = wake;
            _store = new Store(new StoreOptions
            {
                NodeId = Id,
                Peers = peers,
                RandomSeed = 1000 + Id,

                // 500 ms election timeout at 10 ms ticks: a loaded CI machine must stall a drive loop for half a
                // second before leadership moves (the proposals below expect a stable leader).
                ElectionTick = 50,
                PeerTimeoutTicks = 50,
            }, _engine, transport, Machine);
            _store.CreateGroup(Group, new ConfState { Voters = [Id, .. peers] });
            _loop = DriveAsync(_stop.Token);
        }

        public ulong Id { get; }

        public ListStateMachine Machine { get; } = new();

        /// <summary>Runs <paramref name="read"/> on the drive loop (the store is not thread-safe).</summary>
        public Task<T> Read<T>(Func<Store, T> read)
        {
            var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
            _work.Enqueue(() =>
            {
                try
                {
                    done.SetResult(read(_store));
                }
                catch (Exception e)
                {
                    done.SetException(e);
                }
            });
            _wake.Set();
            return done.Task;
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _loop;
            _store.Dispose();
            _engine.Dispose();
            _stop.Dispose();
        }

        private async Task DriveAsync(CancellationToken cancellationToken)
        {
            await Task.Yield();
            var clock = Stopwatch.StartNew();
            var nextTick = TickInterval;
            try
            {
                while (!cancellationToken.IsCancellationRequested)
                {
                    while (_work.TryDequeue(out var work))
                    {
                        work();
                    }

                    var tick = clock.Elapsed >= nextTick;
                    if (tick)
                    {
                        nextTick = clock.Elapsed + TickInterval;
                    }

                    _store.Step(tick);
                    var untilTick = nextTick - clock.Elapsed;
                    await _wake.WaitAsync(untilTick > TimeSpan.Zero ? untilTick : TimeSpan.Zero, cancellationToken);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Stopped by the test.
            }
        }
    }

    /// <summary>Applied commands of the one group, in order; snapshots are the joined list.</summary>
    private sealed class ListStateMachine : IReplicatedStateMachine
    {
        private ulong _applied;

        public List<string> Commands { get; } = [];

        public ulong AppliedIndex(ulong groupId) => _applied;

        public void Apply(ulong groupId, IReadOnlyList<Entry> entries)
        {
            foreach (var entry in entries)
            {
                Assert.Equal(_applied + 1, entry.Index);
                _applied = entry.Index;
                if (entry.Type == EntryType.Normal && !entry.Data.IsEmpty)
                {
                    Commands.Add(Encoding.UTF8.GetString(entry.Data.Span));
                }
            }
        }

        public ReadOnlyMemory<byte> TakeSnapshot(ulong groupId) => Encoding.UTF8.GetBytes(string.Join('\n', Commands));

        public void Restore(ulong groupId, Snapshot snapshot)
        {
            _applied = snapshot.Index;
            Commands.Clear();
            Commands.AddRange(Encoding.UTF8.GetString(snapshot.Data.Span).Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }
    }
}
