using System.Globalization;
using Grpc.Core;
using Grpc.Net.Client;
using Spectre.Console;
using Strata.Api.V1;
using Strata.Cli.Cluster;
using ClusterApi = Strata.Api.V1.Cluster;

namespace Strata.Cli.Chaos;

/// <summary>
/// The membership faults: a node joins (<c>start --join</c>), a node is decommissioned and retired, the bucket's
/// shard leader transfers leadership. Each is one timeline entry whose <see cref="FaultEvent.HealNanos"/> is when it
/// was done and <see cref="FaultEvent.ReadyNanos"/> when the cluster was seen serving afterwards.
/// </summary>
internal sealed partial class FaultScheduler
{
    // Liveness bounds, not performance claims: a join or decommission whose moves do not finish within them fails the
    // run (a move that never finishes is a bug); a transfer not seen within its wait is recorded as not moved.
    private static readonly TimeSpan MembershipTimeout = TimeSpan.FromSeconds(180);
    private static readonly TimeSpan TransferWait = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan MembershipPoll = TimeSpan.FromMilliseconds(100);

    /// <summary>Carries out membership fault <paramref name="fault"/> to its end and waits until the cluster serves.</summary>
    private async Task ChangeMembershipAsync(PlannedFault fault, CancellationToken cancellationToken)
    {
        switch (fault.Kind)
        {
            case FaultKind.Join:
                await JoinAsync(fault, reason: null, cancellationToken).ConfigureAwait(false);
                break;
            case FaultKind.Decommission:
                await DecommissionAsync(fault, cancellationToken).ConfigureAwait(false);
                break;
            case FaultKind.Transfer:
                await TransferAsync(fault, cancellationToken).ConfigureAwait(false);
                break;
            default:
                throw new ArgumentException($"{fault.Kind} is not a membership change", nameof(fault));
        }
    }

    /// <summary>
    /// Starts a new node that joins through a seeded running member, waits until the map lists it, places replicas
    /// on it and has no move left with the replicas balanced (no two active nodes differ by two or more), then until
    /// the cluster serves. Returns the timeline index.
    /// </summary>
    private async Task<int> JoinAsync(PlannedFault fault, string? reason, CancellationToken cancellationToken)
    {
        LocalNode[] running = [.. _cluster.ActiveNodes.Where(n => n.IsRunning)];
        if (running.Length == 0)
        {
            throw new CommandFailedException($"fault {fault.Number}: no running node to join through");
        }

        if (_cluster.WhyNoNodeCanJoin() is { } full)
        {
            _log.Line($"[red]fault {fault.Number}/{_plan.Count}[/]: join skipped: " + Markup.Escape(full));
            return RecordSkipped(fault, FaultKind.Join, full);
        }

        LocalNode via = running[fault.NodeIndex % running.Length];
        LeaderSighting seen = await ObserveLeaderAsync(cancellationToken).ConfigureAwait(false);
        LocalNode node = _cluster.AddJoiningNode(via.ApiAddress);
        _cluster.Start(node.Id);
        int index = Record(new FaultEvent
        {
            Number = fault.Number,
            Kind = ChaosOptions.Name(FaultKind.Join),
            Node = node.Id,
            ProcessId = node.ProcessId,
            Shard = seen.Shard,
            Term = seen.Term,
            OperationsBefore = _started(),
            StartNanos = _clock.Now,
            Note = $"joins through node {via.Id} ({via.ApiAddress}){(reason is null ? "" : "; " + reason)}",
        });
        _log.Line($"[red]fault {fault.Number}/{_plan.Count}[/]: " + Markup.Escape(
            $"node {node.Id} (pid {node.ProcessId}, {node.ApiAddress}) joins through node {via.Id} after {Timeline[index].OperationsBefore:N0} operations" +
            (reason is null ? "" : $" ({reason})") + $"; shard leader before: {Describe(seen.Leader, seen.Term)}"));

        string missing = "not listed in the map yet";
        await UntilAsync(index, $"node {node.Id} did not join and take its share of replicas", () => missing, async token =>
        {
            if (await _cluster.TryObserveAsync(token).ConfigureAwait(false) is not { } seen)
            {
                missing = "no node answered";
                return false;
            }

            NodeInfo? listed = seen.Map.Nodes.FirstOrDefault(n => n.Id == node.Id);
            if (listed is not { State: "active" })
            {
                missing = listed is null ? "not listed in the map yet" : $"listed as {listed.State}";
                return false;
            }

            long now = _clock.Now;
            Update(index, e => e with { ListedNanos = e.ListedNanos ?? now });
            int hosted = seen.Map.Shards.Count(s => s.Replicas.Contains(node.Id));
            if (hosted > 0)
            {
                Update(index, e => e with { HostingNanos = e.HostingNanos ?? now });
            }

            string? unsettled = Unsettled(seen);
            missing = hosted == 0 ? "listed, no replica placed on it yet" : unsettled ?? "";
            return hosted > 0 && unsettled is null;
        }, cancellationToken).ConfigureAwait(false);

        await FinishAsync(index, cancellationToken).ConfigureAwait(false);
        FaultEvent done = Timeline[index];
        _log.Line(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"fault {fault.Number}: node {node.Id} listed after {Since(done, done.ListedNanos)} s, hosting a replica after {Since(done, done.HostingNanos)} s, " +
            $"replicas balanced after {Since(done, done.HealNanos)} s; serving again after {Since(done, done.ReadyNanos)} s; shard leader now {Describe(done.LeaderAfter, done.TermAfter)}")));
        return index;
    }

    /// <summary>
    /// Decommissions the planned node (a node joins first when fewer than <see cref="MembershipPlan.MinActiveNodes"/>
    /// would remain), waits until the map marks it decommissioned, stops its process for good, and waits until the
    /// cluster serves.
    /// </summary>
    private async Task DecommissionAsync(PlannedFault fault, CancellationToken cancellationToken)
    {
        (DecommissionStep step, string? reason) = MembershipPlan.BeforeDecommission(_cluster.ActiveNodes.Count, _cluster.WhyNoNodeCanJoin());
        if (step == DecommissionStep.Skip)
        {
            RecordSkipped(fault, FaultKind.Decommission, reason!);
            _log.Line($"[red]fault {fault.Number}/{_plan.Count}[/]: decommission skipped: " + Markup.Escape(reason!));
            return;
        }

        if (step == DecommissionStep.JoinFirst)
        {
            await JoinAsync(fault, string.Create(CultureInfo.InvariantCulture,
                $"first, so that the decommission of fault {fault.Number} leaves at least {MembershipPlan.MinActiveNodes} active nodes"), cancellationToken).ConfigureAwait(false);
        }

        LeaderSighting seen = await ObserveLeaderForAsync(fault, cancellationToken).ConfigureAwait(false);
        ulong target = MembershipPlan.DecommissionTarget(fault, ActiveIds(), seen.Leader);
        LocalNode node = _cluster.Node(target);
        int index = Record(AimedEvent(fault, FaultKind.Decommission, target, node.ProcessId, seen));
        string role = RoleOf(target, seen);
        _log.Line($"[red]fault {fault.Number}/{_plan.Count}[/]: " + Markup.Escape(
            $"decommission node {target} (pid {node.ProcessId}, {role}) after {Timeline[index].OperationsBefore:N0} operations"));

        await CallAnyAsync(target, $"decommission node {target}", (client, deadline, token) =>
            client.DecommissionNodeAsync(new DecommissionNodeRequest { NodeId = target }, deadline: deadline, cancellationToken: token).ResponseAsync,
            cancellationToken).ConfigureAwait(false);

        string missing = "still active";
        await UntilAsync(index, $"node {target} was not marked decommissioned", () => missing, async token =>
        {
            if (await _cluster.TryObserveAsync(target, token).ConfigureAwait(false) is not { } seen)
            {
                missing = "no other node answered";
                return false;
            }

            NodeInfo? listed = seen.Map.Nodes.FirstOrDefault(n => n.Id == target);
            int held = seen.Map.Shards.Count(s => s.Replicas.Contains(target));
            missing = string.Create(CultureInfo.InvariantCulture, $"{listed?.State ?? "not listed"}, {held} shards still with a replica on it");
            return listed is { State: "decommissioned" };
        }, cancellationToken).ConfigureAwait(false);
        long marked = _clock.Now;
        Update(index, e => e with { DecommissionedNanos = marked });

        await _cluster.RetireAsync(target).ConfigureAwait(false);
        Update(index, e => e with { Note = $"decommissioned, then its process (pid {node.ProcessId}) stopped for good" });
        await FinishAsync(index, cancellationToken).ConfigureAwait(false);
        FaultEvent done = Timeline[index];
        _log.Line(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"fault {fault.Number}: node {target} marked decommissioned after {Since(done, done.DecommissionedNanos)} s and stopped; serving again after " +
            $"{Since(done, done.ReadyNanos)} s; shard leader {Describe(seen.Leader, seen.Term)} before, {Describe(done.LeaderAfter, done.TermAfter)} after")));
    }

    /// <summary>
    /// Asks the bucket's shard leader to hand leadership to a seeded other voter and waits (at most
    /// <see cref="TransferWait"/>) until another node leads; records who leads after. Not moving is recorded, not a failure.
    /// </summary>
    private async Task TransferAsync(PlannedFault fault, CancellationToken cancellationToken)
    {
        ClusterObservation seen = await RecoverAsync(cancellationToken).ConfigureAwait(false);
        ShardInfo? info = TryShardOf(seen);
        var lead = info is null ? null : seen.Leader(info.ShardId);
        ulong? target = lead is { } l ? MembershipPlan.TransferTarget(fault, l.Node, l.Replica.Voters) : null;
        if (info is null || lead is null || target is null)
        {
            string why = info is null ? "the map has no shard for the bucket" : lead is null ? "no leader of the bucket's shard was seen" : "the shard has no other voter";
            Record(new FaultEvent
            {
                Number = fault.Number,
                Kind = ChaosOptions.Name(FaultKind.Transfer),
                Node = lead?.Node ?? 0,
                Shard = info?.ShardId,
                OperationsBefore = _started(),
                StartNanos = _clock.Now,
                HealNanos = _clock.Now,
                Skipped = true,
                Note = "skipped: " + why,
            });
            _log.Line($"[red]fault {fault.Number}/{_plan.Count}[/]: transfer skipped: " + Markup.Escape(why));
            return;
        }

        (ulong leader, ReplicaInfo replica) = lead.Value;
        int index = Record(new FaultEvent
        {
            Number = fault.Number,
            Kind = ChaosOptions.Name(FaultKind.Transfer),
            Node = leader,
            ProcessId = _cluster.Node(leader).ProcessId,
            AimedAtLeader = true,
            WasLeader = true,
            Shard = info.ShardId,
            Term = replica.Term,
            Target = target,
            OperationsBefore = _started(),
            StartNanos = _clock.Now,
        });
        _log.Line($"[red]fault {fault.Number}/{_plan.Count}[/]: " + Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"node {leader} (leader of shard {info.ShardId}, term {replica.Term}) is asked to transfer leadership to node {target} after {Timeline[index].OperationsBefore:N0} operations")));

        string? refused = null;
        try
        {
            using GrpcChannel channel = ProbeChannel.For(_cluster.Node(leader).Uri);
            await new ClusterApi.ClusterClient(channel)
                .TransferLeadershipAsync(new TransferLeadershipRequest { ShardId = info.ShardId, TargetNode = target.Value },
                    deadline: DateTime.UtcNow.Add(CallTimeout), cancellationToken: cancellationToken)
                .ConfigureAwait(false);
        }
        catch (RpcException e) when (!cancellationToken.IsCancellationRequested)
        {
            // Recorded; whether leadership moved anyway is what the wait below shows.
            refused = $"TransferLeadership answered {e.StatusCode}: {e.Status.Detail}";
        }

        using (var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            wait.CancelAfter(TransferWait);
            try
            {
                while (true)
                {
                    if (await _cluster.TryObserveAsync(wait.Token).ConfigureAwait(false) is { } now && now.Leader(info.ShardId) is { } after
                        && (after.Node != leader || after.Replica.Term > replica.Term))
                    {
                        long at = _clock.Now;
                        Update(index, e => e with { HealNanos = at, Moved = after.Node != leader, LeaderAfter = after.Node, TermAfter = after.Replica.Term });
                        break;
                    }

                    await Task.Delay(MembershipPoll, wait.Token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                long at = _clock.Now;
                Update(index, e => e with { HealNanos = at, Moved = false });
            }
        }

        if (refused is not null)
        {
            Update(index, e => e with { Note = refused });
        }

        // Who leads once the cluster serves again (the transfer may have been followed by an election or a rebalance).
        ClusterObservation ready = await RecoverAsync(cancellationToken).ConfigureAwait(false);
        var settled = ready.Leader(info.ShardId);
        long readyAt = _clock.Now;
        Update(index, e => e with
        {
            ReadyNanos = readyAt,
            LeaderAfter = e.Moved == true ? e.LeaderAfter : settled?.Node,
            TermAfter = e.Moved == true ? e.TermAfter : settled?.Replica.Term,
        });
        FaultEvent done = Timeline[index];
        string outcome = done.Moved == true
            ? $"leadership moved to node {done.LeaderAfter} (term {done.TermAfter}) {Since(done, done.HealNanos)} s after the request"
            : $"leadership did not move within {TransferWait.TotalSeconds:0} s (now {Describe(done.LeaderAfter, done.TermAfter)})";
        _log.Line(Markup.Escape($"fault {fault.Number}: {outcome}{(refused is null ? "" : "; " + refused)}"));
    }

    /// <summary>Marks timeline entry <paramref name="index"/> done now, waits until the cluster serves, and records the shard leader then.</summary>
    private async Task FinishAsync(int index, CancellationToken cancellationToken)
    {
        long done = _clock.Now;
        Update(index, e => e with { HealNanos = done });
        ClusterObservation ready = await RecoverAsync(cancellationToken).ConfigureAwait(false);
        long readyAt = _clock.Now;
        string? waited = SlowRecovery();
        var leader = TryShardOf(ready) is { } info ? ready.Leader(info.ShardId) : null;
        Update(index, e => e with { ReadyNanos = readyAt, LeaderAfter = leader?.Node, TermAfter = leader?.Replica.Term, WaitedFor = waited });
        if (waited is not null)
        {
            _log.Line(Markup.Escape($"fault {Timeline[index].Number}: serving again took long; readiness waited for: {waited}"));
        }
    }

    /// <summary>
    /// Polls <paramref name="reached"/> (restarting nodes that exited by themselves in between) until it says yes;
    /// throws <see cref="CommandFailedException"/> with <paramref name="failure"/> and what was still missing after
    /// <see cref="MembershipTimeout"/>.
    /// </summary>
    private async Task UntilAsync(int index, string failure, Func<string> missing, Func<CancellationToken, Task<bool>> reached, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(MembershipTimeout);
        try
        {
            while (!await reached(deadline.Token).ConfigureAwait(false))
            {
                RestartCrashed();
                await Task.Delay(MembershipPoll, deadline.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Update(index, e => e with { Note = $"{e.Note}; not done within {MembershipTimeout.TotalSeconds:0} s: {missing()}" });
            throw new CommandFailedException($"fault {Timeline[index].Number}: {failure} within {MembershipTimeout.TotalSeconds:0} s ({missing()}; logs in {_cluster.Directory})");
        }
    }

    /// <summary>
    /// Calls the <c>strata.v1.Cluster</c> service on a running active node other than <paramref name="excluded"/>,
    /// trying the next on UNAVAILABLE or a deadline until one answers (or <see cref="MembershipTimeout"/> passes);
    /// any other error fails the run.
    /// </summary>
    private async Task CallAnyAsync<T>(ulong excluded, string what, Func<ClusterApi.ClusterClient, DateTime, CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(MembershipTimeout);
        string last = "no running node to ask";
        try
        {
            while (true)
            {
                foreach (Uri address in _cluster.RunningAddresses(excluded))
                {
                    using GrpcChannel channel = ProbeChannel.For(address);
                    try
                    {
                        await call(new ClusterApi.ClusterClient(channel), DateTime.UtcNow.Add(CallTimeout), deadline.Token).ConfigureAwait(false);
                        return;
                    }
                    catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded && !deadline.IsCancellationRequested)
                    {
                        last = $"{address.Authority}: {e.StatusCode} {e.Status.Detail}";
                    }
                    catch (RpcException e) when (!deadline.IsCancellationRequested)
                    {
                        throw new CommandFailedException($"{what}: {address.Authority} answered {e.StatusCode}: {e.Status.Detail}");
                    }
                }

                await Task.Delay(MembershipPoll, deadline.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CommandFailedException($"{what}: no node took the request within {MembershipTimeout.TotalSeconds:0} s (last: {last})");
        }
    }

    /// <summary>
    /// Why the map is not settled: a move in progress (with <see cref="MoveProgress"/>), or active nodes whose replica
    /// counts differ by two or more; null when settled.
    /// </summary>
    internal static string? Unsettled(ClusterObservation seen)
    {
        if (seen.Map.Shards.FirstOrDefault(s => s.Move is not null) is { } moving)
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"shard {moving.ShardId} is moving a replica from node {moving.Move.FromNode} to node {moving.Move.ToNode} ({moving.Move.Reason}); ")
                + MoveProgress(seen, moving.ShardId, moving.Move.ToNode);
        }

        var counts = seen.Map.Nodes.Where(n => n.State == "active")
            .Select(n => (Node: n.Id, Replicas: seen.Map.Shards.Count(s => s.Replicas.Contains(n.Id))))
            .ToList();
        if (counts.Count > 0 && counts.Max(c => c.Replicas) - counts.Min(c => c.Replicas) >= 2)
        {
            return "replicas not balanced yet: " + string.Join(", ", counts.Select(c => string.Create(CultureInfo.InvariantCulture, $"node {c.Node} holds {c.Replicas}")));
        }

        return null;
    }

    /// <summary>
    /// What every answering node's replicas of the meta shard and of the moving shard say (role, commit and applied
    /// index, or none), and how far the shard's leader has the move's target: tells a target still catching up from one
    /// that never heard of the move (a stuck move once was a meta learner that held the entry starting it but was never
    /// told it was committed).
    /// </summary>
    internal static string MoveProgress(ClusterObservation seen, ulong shardId, ulong to)
    {
        static string Indexes(ReplicaInfo? r) => r is null ? "none" : string.Create(CultureInfo.InvariantCulture, $"{r.Role} c{r.Committed}/a{r.Applied}");
        var parts = seen.Nodes.Where(n => n.Answers)
            .Select(n => string.Create(CultureInfo.InvariantCulture,
                $"node {n.Node.Id}: meta {Indexes(seen.Replica(n.Node.Id, ClusterObservation.MetaShardId))}, shard {shardId} {Indexes(seen.Replica(n.Node.Id, shardId))}"))
            .ToList();
        if (seen.Leader(shardId) is { } leader)
        {
            parts.Add(leader.Replica.FollowerMatch.TryGetValue(to, out ulong match)
                ? string.Create(CultureInfo.InvariantCulture, $"leader node {leader.Node} has node {to} at index {match} of {leader.Replica.Committed}")
                : string.Create(CultureInfo.InvariantCulture, $"leader node {leader.Node} does not replicate to node {to}"));
        }

        return string.Join("; ", parts);
    }

    private ShardInfo? TryShardOf(ClusterObservation seen)
    {
        try
        {
            return seen.ShardOf(_bucket);
        }
        catch (CommandFailedException)
        {
            return null;
        }
    }

    private int Record(FaultEvent started)
    {
        lock (_gate)
        {
            _timeline.Add(started);
            return _timeline.Count - 1;
        }
    }

    private static string Describe(ulong? leader, ulong? term) =>
        leader is { } l ? string.Create(CultureInfo.InvariantCulture, $"node {l} (term {term})") : "not seen";

    private static string Since(FaultEvent fault, long? at) =>
        at is long t ? ChaosClock.Seconds(t - fault.StartNanos).ToString("0.00", CultureInfo.InvariantCulture) : "?";
}
