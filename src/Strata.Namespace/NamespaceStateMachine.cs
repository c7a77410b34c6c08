using System.Buffers.Binary;
using Google.Protobuf;
using Strata.Namespace.Commands;
using Strata.Storage;

namespace Strata.Namespace;

/// <summary>A command at its position in the replicated log. A null command is a log position that carries no
/// namespace command (Raft's own entries: a new leader's empty entry, a membership change): applying it only
/// advances the applied index.</summary>
public readonly record struct LoggedCommand(ulong Index, Command? Command);

/// <summary>
/// The namespace of one shard as a deterministic state machine: <c>Apply(commands) -> results</c> over the
/// engine's Data column. It reads nothing but the commands and the store: timestamps and new IDs come
/// inside the commands, so every replica that applies the same log reaches the same state byte for byte.
/// </summary>
/// <remarks>
/// <para>Duties of the caller: feed commands in log order with consecutive indexes. Each call writes the
/// changes of all its commands and the new applied index in ONE engine batch, so after a crash the store
/// is either before or after the whole call; commands at or below <see cref="AppliedIndex"/> are skipped,
/// which makes re-applying a log suffix after a restart harmless.</para>
/// <para>Concurrency: <see cref="Apply"/> is never called concurrently (one apply loop per shard). Reads
/// through <see cref="NamespaceReader"/> may run concurrently with it; they see whole batches only.</para>
/// </remarks>
public sealed partial class NamespaceStateMachine
{
    private readonly IKvEngine _engine;
    private readonly byte[] _metaKey;
    private readonly AppliedRowCache _rows = new(capacity: 65_536);

    public NamespaceStateMachine(IKvEngine engine, ulong shardId)
    {
        _engine = engine;
        ShardId = shardId;
        _metaKey = NamespaceKeys.ShardMeta(shardId);
        (AppliedIndex, LastTimestamp) = ReadMeta(engine, _metaKey);
    }

    public ulong ShardId { get; }

    /// <summary>Index of the last command whose effects are in the store.</summary>
    public ulong AppliedIndex { get; private set; }

    /// <summary>MVCC version of the last applied command; every command applies at a larger one.</summary>
    public ulong LastTimestamp { get; private set; }

    /// <summary>
    /// Applies <paramref name="commands"/> in order and writes all their effects and the applied index in
    /// one batch (durable on return when <paramref name="sync"/>). Returns one result per command; a command
    /// at or below <see cref="AppliedIndex"/> was applied before and gets a null result.
    /// </summary>
    public IReadOnlyList<CommandResult?> Apply(IReadOnlyList<LoggedCommand> commands, bool sync)
    {
        var results = new CommandResult?[commands.Count];
        var batchWrites = new WriteSet(_engine, _rows);
        ulong applied = AppliedIndex;
        ulong lastTimestamp = LastTimestamp;
        for (int i = 0; i < commands.Count; i++)
        {
            LoggedCommand logged = commands[i];
            if (logged.Index <= applied)
            {
                continue;
            }

            if (logged.Index != applied + 1)
            {
                throw new InvalidOperationException(
                    $"shard {ShardId}: command index {logged.Index} does not follow applied index {applied}");
            }

            if (logged.Command is null)
            {
                applied = logged.Index;
                continue;
            }

            // Versions must grow with the log even if a proposer's clock went backwards.
            ulong timestamp = Math.Max(logged.Command.Timestamp, lastTimestamp + 1);
            var commandWrites = new WriteSet(batchWrites);
            results[i] = ApplyOne(commandWrites, logged.Command, timestamp);
            commandWrites.CommitToParent();
            applied = logged.Index;
            lastTimestamp = timestamp;
        }

        if (applied == AppliedIndex)
        {
            return results;
        }

        var meta = new byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(meta, applied);
        BinaryPrimitives.WriteUInt64BigEndian(meta.AsSpan(8), lastTimestamp);
        batchWrites.Put(_metaKey, RecordCodec.Seal(_metaKey, meta));
        using (IKvWriteBatch batch = _engine.CreateBatch())
        {
            batchWrites.WriteTo(batch);
            try
            {
                _engine.Write(batch, sync);
            }
            catch
            {
                _rows.Clear(); // what the engine holds is unknown now; the caller must stop or reopen
                throw;
            }
        }

        batchWrites.WriteTo(_rows);

        AppliedIndex = applied;
        LastTimestamp = lastTimestamp;
        return results;
    }

    /// <summary>Applies one command: exactly-once bookkeeping around <see cref="Execute"/>.</summary>
    private CommandResult ApplyOne(WriteSet writes, Command command, ulong timestamp)
    {
        ByteString clientId = command.ClientId;
        if (clientId.IsEmpty)
        {
            return ExecuteOrReject(writes, command, timestamp);
        }

        if (clientId.Length != 16 || command.Sequence == 0)
        {
            return new CommandRejectedException(ResultCode.ResultInvalidArgument,
                "a client command needs a 16-byte client id and a sequence number starting at 1").ToResult();
        }

        byte[] sessionKey = NamespaceKeys.Session(clientId.Span);
        byte[]? sessionBytes = writes.Get(sessionKey);
        SessionRecord session = sessionBytes is null
            ? new SessionRecord()
            : Records.Open(sessionKey, sessionBytes, SessionRecord.Parser);
        byte[] resultKey = NamespaceKeys.Result(clientId.Span, command.Sequence);
        byte[]? stored = writes.Get(resultKey);
        if (stored is not null)
        {
            // A retry of a command that was already applied: its first outcome, and nothing else.
            return Records.Open(resultKey, stored, CommandResult.Parser);
        }

        if (session.HighestSequence >= NamespaceLimits.SessionWindow &&
            command.Sequence <= session.HighestSequence - NamespaceLimits.SessionWindow)
        {
            return new CommandRejectedException(ResultCode.ResultSessionExpired,
                $"sequence {command.Sequence} is older than this client's retry window " +
                $"(highest {session.HighestSequence}, window {NamespaceLimits.SessionWindow}); its outcome is no longer known")
                .ToResult();
        }

        CommandResult result = ExecuteOrReject(writes, command, timestamp);
        writes.Put(resultKey, Records.Seal(resultKey, result));
        ulong previousHighest = session.HighestSequence;
        ulong highest = Math.Max(previousHighest, command.Sequence);
        ForgetResultsBelowWindow(writes, clientId.Span, previousHighest, highest);
        if (sessionBytes is not null)
        {
            writes.Delete(NamespaceKeys.SessionExpiry(session.LastActive, clientId.Span));
        }

        session.HighestSequence = highest;
        session.LastActive = timestamp;
        writes.Put(sessionKey, Records.Seal(sessionKey, session));
        writes.Put(NamespaceKeys.SessionExpiry(timestamp, clientId.Span), []);
        return result;
    }

    /// <summary>
    /// Deletes the stored results that fell out of the client's window. Scans only the results between the old and
    /// the new floor that exist (at most one window's worth), so a client that jumps far ahead costs no more than
    /// one that steps by one.
    /// </summary>
    private static void ForgetResultsBelowWindow(WriteSet writes, ReadOnlySpan<byte> clientId, ulong previousHighest, ulong highest)
    {
        ulong window = NamespaceLimits.SessionWindow;
        ulong previousFloor = previousHighest > window ? previousHighest - window : 0;
        if (highest <= window || highest - window <= previousFloor)
        {
            return;
        }

        // Results at or below the previous floor were deleted when the floor moved there. Starting the scan above
        // it keeps each step proportional to what it forgets, not to the client's whole history (on RocksDB the
        // deleted keys stay as tombstones until compaction, and a scan from 0 would walk all of them).
        byte[] lower = NamespaceKeys.Result(clientId, previousFloor + 1);
        byte[] upper = NamespaceKeys.Result(clientId, highest - window + 1);
        var expired = new List<byte[]>();
        foreach (KeyValuePair<byte[], byte[]> pair in writes.Scan(lower, upper))
        {
            expired.Add(pair.Key);
        }

        foreach (byte[] key in expired)
        {
            writes.Delete(key);
        }
    }

    /// <summary>Runs the command; a refusal discards everything it wrote and becomes the result.</summary>
    private CommandResult ExecuteOrReject(WriteSet writes, Command command, ulong timestamp)
    {
        var context = new ApplyContext(writes, timestamp, command.IdSeed);
        try
        {
            return Execute(context, command);
        }
        catch (CommandRejectedException rejected)
        {
            writes.Clear();
            return rejected.ToResult();
        }
    }

    private CommandResult Execute(ApplyContext context, Command command) => command.BodyCase switch
    {
        Command.BodyOneofCase.CreateBucket => CreateBucket(context, command.CreateBucket),
        Command.BodyOneofCase.DeleteBucket => DeleteBucket(context, command.DeleteBucket),
        Command.BodyOneofCase.Put => Put(context, command.Put),
        Command.BodyOneofCase.Delete => Delete(context, command.Delete),
        Command.BodyOneofCase.Patch => Patch(context, command.Patch),
        Command.BodyOneofCase.MakeDirectory => MakeDirectory(context, command.MakeDirectory),
        Command.BodyOneofCase.RemoveDirectory => RemoveDirectory(context, command.RemoveDirectory),
        Command.BodyOneofCase.Rename => Rename(context, command.Rename),
        Command.BodyOneofCase.Transaction => Transaction(context, command.Transaction),
        Command.BodyOneofCase.CollectGarbage => CollectGarbage(context, command.CollectGarbage),
        _ => throw CommandRejectedException.Invalid("the command has no operation"),
    };

    private static (ulong AppliedIndex, ulong LastTimestamp) ReadMeta(IKvReader reader, byte[] metaKey)
    {
        byte[]? sealedMeta = reader.Get(KvColumn.Data, metaKey);
        if (sealedMeta is null)
        {
            return (0, 0);
        }

        ReadOnlySpan<byte> meta = RecordCodec.Open(metaKey, sealedMeta);
        if (meta.Length != 16)
        {
            throw new CorruptionException($"shard meta record has {meta.Length} bytes, expected 16");
        }

        return (BinaryPrimitives.ReadUInt64BigEndian(meta), BinaryPrimitives.ReadUInt64BigEndian(meta[8..]));
    }

    /// <summary>Re-reads the applied state after the store was replaced (snapshot restore).</summary>
    private void ReloadMeta() => (AppliedIndex, LastTimestamp) = ReadMeta(_engine, _metaKey);
}
