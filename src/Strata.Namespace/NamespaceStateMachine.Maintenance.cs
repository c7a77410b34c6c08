using Strata.Namespace.Commands;

namespace Strata.Namespace;

public sealed partial class NamespaceStateMachine
{
    /// <summary>
    /// Drops MVCC versions that no read at or after the horizon can see, and sessions idle since before the
    /// expiry time. For each entry: every version newer than the horizon stays, and so does the newest one
    /// at or below it (a read at the horizon needs it) unless it is a tombstone.
    /// </summary>
    /// <remarks>This walks the whole shard; it is a maintenance command proposed rarely.</remarks>
    private CommandResult CollectGarbage(ApplyContext context, CollectGarbage collect)
    {
        ulong removed = 0;
        if (collect.MvccHorizon > 0)
        {
            removed += CollectVersions(context.Writes, collect.MvccHorizon);
        }

        if (collect.SessionExpiryBefore > 0)
        {
            removed += ExpireSessions(context.Writes, collect.SessionExpiryBefore);
        }

        return new CommandResult { Removed = removed, FailedOperation = -1 };
    }

    private static ulong CollectVersions(WriteSet writes, ulong horizon)
    {
        ulong removed = 0;
        byte[] lower = [NamespaceKeys.EntryKind];
        byte[] upper = [NamespaceKeys.EntryKind + 1];
        var doomed = new List<byte[]>();
        byte[]? currentName = null;
        ulong currentDirectory = 0;
        bool keptOneAtOrBelowHorizon = false;
        foreach (KeyValuePair<byte[], byte[]> pair in writes.Scan(lower, upper))
        {
            if (pair.Key[9] == NamespaceKeys.TimeIndexSeparator)
            {
                continue;
            }

            (ReadOnlyMemory<byte> name, ulong? version) = NamespaceKeys.ParseEntry(pair.Key, out ulong directory);
            EntryRecord record = Records.Open(pair.Key, pair.Value, EntryRecord.Parser);
            if (version is null)
            {
                currentName = name.ToArray();
                currentDirectory = directory;
                keptOneAtOrBelowHorizon = false;
                version = record.Version;
            }
            else if (currentName is null || directory != currentDirectory || !name.Span.SequenceEqual(currentName))
            {
                // History without a current key cannot be written by apply; treat it as garbage of a removed entry.
                doomed.Add(pair.Key);
                continue;
            }

            if (version > horizon)
            {
                continue;
            }

            if (!keptOneAtOrBelowHorizon && !record.Deleted)
            {
                keptOneAtOrBelowHorizon = true;
                continue;
            }

            keptOneAtOrBelowHorizon = true;
            doomed.Add(pair.Key);
        }

        foreach (byte[] key in doomed)
        {
            writes.Delete(key);
            removed++;
        }

        return removed;
    }

    private static ulong ExpireSessions(WriteSet writes, ulong expiryBefore)
    {
        byte[] lower = [NamespaceKeys.SessionExpiryKind];
        byte[] upper = NamespaceKeys.SessionExpiry(expiryBefore, []);
        var expired = new List<byte[]>();
        foreach (KeyValuePair<byte[], byte[]> pair in writes.Scan(lower, upper))
        {
            expired.Add(pair.Key);
        }

        ulong removed = 0;
        foreach (byte[] expiryKey in expired)
        {
            byte[] clientId = expiryKey[9..];
            writes.Delete(expiryKey);
            writes.Delete(NamespaceKeys.Session(clientId));
            byte[] resultsLower = NamespaceKeys.Result(clientId, 0);
            byte[] resultsUpper = NamespaceKeys.Result(clientId, ulong.MaxValue);
            var results = new List<byte[]>();
            foreach (KeyValuePair<byte[], byte[]> pair in writes.Scan(resultsLower, resultsUpper))
            {
                results.Add(pair.Key);
            }

            foreach (byte[] resultKey in results)
            {
                writes.Delete(resultKey);
            }

            removed++;
        }

        return removed;
    }
}
