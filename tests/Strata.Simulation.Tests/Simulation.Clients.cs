using Strata.Linearizability;
using Strata.Linearizability.Models;

namespace Strata.Simulation.Tests;

// Clients: concurrent reads, writes and compare-and-sets with retries and timeouts, recorded for the checker.
internal sealed partial class Simulation
{
    private readonly Dictionary<(ulong Group, int Key), List<Operation<CasRegisterInput, CasRegisterOutput>>> _history = [];
    private long _livenessWindowStart = long.MaxValue;
    private readonly Dictionary<ulong, long> _lastSuccess = [];

    public int CompletedOps { get; private set; }

    public int IndeterminateOps { get; private set; }

    public int LeaseReads { get; private set; }

    private long ClientTimeout => 40 * Options.TickUnits;

    private long AttemptTimeout => 6 * Options.TickUnits;

    private void StartOp(SimClient client)
    {
        var key = Rng.Next(Options.Keys);
        var value = (client.Id * 1_000_000L) + ++client.Counter;
        RegisterCommand cmd;
        switch (Rng.Next(10))
        {
            case < 4:
                cmd = new RegisterCommand(client.Id, 0, RegisterOp.Read, key, value, 0); // value only makes the op unique
                break;
            case < 7:
                cmd = new RegisterCommand(client.Id, ++client.Sequence, RegisterOp.Write, key, value, 0);
                break;
            default:
                var expected = client.LastSeen.TryGetValue(key, out var seen) && Rng.Chance(0.8) ? seen : value - 1;
                cmd = new RegisterCommand(client.Id, ++client.Sequence, RegisterOp.Cas, key, value, expected);
                break;
        }

        var op = new ClientOp(cmd, Now, Now + ClientTimeout);
        client.Op = op;
        SendAttempt(client, op);
        Schedule(op.Deadline, 51, (ulong)client.Id, 0, () =>
        {
            if (!op.Done)
            {
                // Unknown outcome: it may have taken effect (or may still), or never will.
                op.Done = true;
                IndeterminateOps++;
                Record(client, op, default, Operation<CasRegisterInput, CasRegisterOutput>.UnknownReturn);
                NextOp(client);
            }
        });
    }

    private void NextOp(SimClient client) =>
        Schedule(Now + Rng.Range(0, 3 * Options.TickUnits), 50, (ulong)client.Id, 0, () => StartOp(client));

    private void SendAttempt(SimClient client, ClientOp op)
    {
        if (op.Done)
        {
            return;
        }

        var attempt = ++op.Attempt;
        if (client.Target == 0 || !_nodes.ContainsKey(client.Target))
        {
            client.Target = _nodes.Keys.ElementAt(Rng.Next(_nodes.Count));
        }

        var request = new ClientRequest(client.Id, attempt, op.Command, client.Group);
        var node = _nodes[client.Target];
        if (!Rng.Chance(Options.DropRate))
        {
            Schedule(Now + Rng.Range(Options.MinLatency, Options.MaxLatency), 30, node.Id, (ulong)client.Id,
                () => OnNode(node, node.Incarnation, () => HandleRequest(node, request)));
        }

        Schedule(Now + AttemptTimeout, 52, (ulong)client.Id, (ulong)attempt, () =>
        {
            if (!op.Done && op.Attempt == attempt)
            {
                client.Target = 0; // try someone else
                SendAttempt(client, op);
            }
        });
    }

    private void HandleRequest(SimNode node, ClientRequest request)
    {
        Log(() => $"n{node.Id} got {request}" + (node.Replicas.TryGetValue(request.Group, out var dr) ? $" role={dr.Raft.Role} leader={dr.Raft.Leader} lease={dr.Raft.HasValidLease} commit={dr.Raft.Committed} applied={dr.Raft.Applied}" : " (no replica)"));
        if (!node.Replicas.TryGetValue(request.Group, out var r))
        {
            Reply(node, request, ReplyKind.NotLeader, 0, false, null);
            return;
        }

        var cmd = request.Command;
        if (cmd.Op == RegisterOp.Read)
        {
            if (Options.UnsafeLocalReads)
            {
                Reply(node, request, ReplyKind.Ok, 0, true, r.State.Get(cmd.Key)); // deliberately wrong
                return;
            }

            if (Options.LeaseReads && r.Raft.HasValidLease && r.Raft.Applied >= r.Raft.Committed && r.Writing is null)
            {
                LeaseReads++;
                Reply(node, request, ReplyKind.Ok, 0, true, r.State.Get(cmd.Key));
                return;
            }

            var id = ((long)node.Incarnation << 40) | ++r.NextReadId;
            var outcome = r.Raft.ReadIndex(BitConverter.GetBytes(id));
            Log(() => $"n{node.Id} readindex {id}: {outcome}");
            if (outcome is Consensus.ProposalOutcome.Appended or Consensus.ProposalOutcome.Forwarded)
            {
                r.PendingReads[id] = (request, null);
                Activity(r);
            }
            else
            {
                Reply(node, request, ReplyKind.NotLeader, r.Raft.Leader, false, null);
            }

            return;
        }

        if (r.State.AppliedResult(cmd.Client, cmd.Sequence) is { } done)
        {
            Reply(node, request, ReplyKind.Ok, 0, done, null);
            return;
        }

        if (r.PendingWrites.TryGetValue((cmd.Client, cmd.Sequence), out var earlier) && earlier.Term == r.Raft.Term)
        {
            // Already proposed through us in this term: do not append a duplicate, just answer this attempt later.
            r.PendingWrites[(cmd.Client, cmd.Sequence)] = (request, earlier.Term);
            return;
        }

        var result = r.Raft.Propose(cmd.Encode());
        Log(() => $"n{node.Id} propose {cmd.Client}/{cmd.Sequence}: {result}");
        if (result is Consensus.ProposalOutcome.Appended or Consensus.ProposalOutcome.Forwarded)
        {
            r.PendingWrites[(cmd.Client, cmd.Sequence)] = (request, r.Raft.Term);
            Activity(r);
        }
        else
        {
            Reply(node, request, ReplyKind.NotLeader, r.Raft.Leader, false, null);
        }
    }

    private void ServeReads(Replica r)
    {
        if (r.PendingReads.Count == 0)
        {
            return;
        }

        foreach (var (id, (request, index)) in r.PendingReads.ToList())
        {
            if (index is { } i && r.Raft.Applied >= i && r.LastApplied >= i)
            {
                r.PendingReads.Remove(id);
                Reply(r.Node, request, ReplyKind.Ok, 0, true, r.State.Get(request.Command.Key));
            }
        }
    }

    private void Reply(SimNode node, ClientRequest request, ReplyKind kind, ulong hint, bool ok, long? value)
    {
        var reply = new ClientReply(request.Client, request.Attempt, request.Command.Sequence, kind, hint, ok, value);
        if (Rng.Chance(Options.DropRate))
        {
            return;
        }

        var client = _clients[request.Client - 1];
        Schedule(Now + Rng.Range(Options.MinLatency, Options.MaxLatency), 31, (ulong)client.Id, node.Id,
            () => HandleReply(client, request, reply));
    }

    private void HandleReply(SimClient client, ClientRequest request, ClientReply reply)
    {
        Log(() => $"client {client.Id} reply {reply}");
        var op = client.Op;
        if (op is null || op.Done || op.Command != request.Command)
        {
            return;
        }

        if (reply.Kind == ReplyKind.NotLeader)
        {
            if (op.Attempt != reply.Attempt)
            {
                return;
            }

            client.Target = reply.LeaderHint;
            var attempt = op.Attempt;
            Schedule(Now + Rng.Range(Options.TickUnits / 2, 2 * Options.TickUnits), 53, (ulong)client.Id, 0, () =>
            {
                if (!op.Done && op.Attempt == attempt)
                {
                    SendAttempt(client, op);
                }
            });
            return;
        }

        op.Done = true;
        CompletedOps++;
        _lastSuccess[client.Group] = Now;
        var cmd = op.Command;
        var output = cmd.Op switch
        {
            RegisterOp.Read => CasRegisterOutput.ReadResult(reply.Value),
            RegisterOp.Write => CasRegisterOutput.WriteDone,
            _ => CasRegisterOutput.CasResult(reply.Succeeded),
        };
        if (cmd.Op == RegisterOp.Read && reply.Value is { } v)
        {
            client.LastSeen[cmd.Key] = v;
        }
        else if (cmd.Op != RegisterOp.Read && reply.Succeeded)
        {
            client.LastSeen[cmd.Key] = cmd.Value;
        }

        Record(client, op, output, Now);
        NextOp(client);
    }

    private void Record(SimClient client, ClientOp op, CasRegisterOutput output, long returned)
    {
        var cmd = op.Command;
        var input = cmd.Op switch
        {
            RegisterOp.Read => CasRegisterInput.Read(),
            RegisterOp.Write => CasRegisterInput.Write(cmd.Value),
            _ => CasRegisterInput.Cas(cmd.Expected, cmd.Value),
        };
        if (!_history.TryGetValue((client.Group, cmd.Key), out var list))
        {
            _history[(client.Group, cmd.Key)] = list = [];
        }

        list.Add(new Operation<CasRegisterInput, CasRegisterOutput>(client.Id, input, output, op.Call, returned));
    }

    /// <summary>Checks every (group, register) history; returns a description of the first illegal one.</summary>
    public (int Checked, int Unknown, string? Illegal) CheckLinearizability(TimeSpan budgetPerHistory)
    {
        int checkedCount = 0, unknown = 0;
        foreach (var ((group, key), ops) in _history.OrderBy(h => h.Key))
        {
            var result = LinearizabilityChecker.Check(CasRegisterModel.Instance, ops, budgetPerHistory);
            checkedCount++;
            if (result.Verdict == Verdict.Illegal)
            {
                return (checkedCount, unknown, $"seed {Seed} group {group} key {key}: {result.Explanation}\n  replay: {Replay}");
            }

            if (result.Verdict == Verdict.Unknown)
            {
                unknown++;
            }
        }

        return (checkedCount, unknown, null);
    }

    private void CheckLiveness()
    {
        for (ulong g = 1; g <= (ulong)Options.Groups; g++)
        {
            if (!_lastSuccess.TryGetValue(g, out var t) || t < _livenessWindowStart)
            {
                Fail($"liveness: group {g} completed no client operation in the second half of the quiet phase");
            }
        }
    }
}
