using System.Text;
using Strata.Consensus;

namespace Strata.Replication.Tests;

/// <summary>A test state machine: per group, the list of applied commands (as strings) and the applied index.
/// In memory, so a crash loses it and the store rebuilds it from the log's snapshot and entries.</summary>
internal sealed class RecordingStateMachine : IReplicatedStateMachine
{
    private readonly Dictionary<ulong, (ulong Applied, List<string> Commands)> _groups = [];

    public IReadOnlyList<string> Commands(ulong group) => _groups.TryGetValue(group, out var g) ? g.Commands : [];

    public ulong Applied(ulong group) => _groups.TryGetValue(group, out var g) ? g.Applied : 0;

    public int Restores { get; private set; }

    /// <summary>The groups the store destroyed, in order.</summary>
    public List<ulong> Destroyed { get; } = [];

    public void Destroy(ulong groupId, Storage.IKvWriteBatch batch)
    {
        Destroyed.Add(groupId);
        _groups.Remove(groupId);
    }

    public ulong AppliedIndex(ulong groupId) => Applied(groupId);

    public void Apply(ulong groupId, IReadOnlyList<Entry> entries)
    {
        var (applied, commands) = _groups.TryGetValue(groupId, out var g) ? g : (0UL, new List<string>());
        foreach (var e in entries)
        {
            Assert.Equal(applied + 1, e.Index); // in order, exactly once
            applied = e.Index;
            if (e.Type == EntryType.Normal && !e.Data.IsEmpty)
            {
                commands.Add(Encoding.UTF8.GetString(e.Data.Span));
            }
        }

        _groups[groupId] = (applied, commands);
    }

    public ReadOnlyMemory<byte> TakeSnapshot(ulong groupId)
    {
        var (applied, commands) = _groups[groupId];
        return Encoding.UTF8.GetBytes($"{applied}\n{string.Join('\n', commands)}");
    }

    public void Restore(ulong groupId, Snapshot snapshot)
    {
        Restores++;
        if (snapshot.Data.IsEmpty)
        {
            _groups[groupId] = (snapshot.Index, []);
            return;
        }

        var lines = Encoding.UTF8.GetString(snapshot.Data.Span).Split('\n');
        Assert.Equal(snapshot.Index, ulong.Parse(lines[0], System.Globalization.CultureInfo.InvariantCulture));
        _groups[groupId] = (snapshot.Index, [.. lines.Skip(1).Where(l => l.Length > 0)]);
    }
}
