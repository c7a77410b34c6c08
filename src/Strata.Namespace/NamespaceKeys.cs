using System.Buffers.Binary;

namespace Strata.Namespace;

/// <summary>
/// The layout of the namespace in the engine's Data column. Every key starts with a one-byte kind.
/// </summary>
/// <remarks>
/// <code>
/// 0x00 | shard(8) | 0x01                      applied index and last applied timestamp of a shard
/// 0x01 | bucket name                           BucketRecord
/// 0x02 | dir(8) | name | 0x00                  current EntryRecord of (dir, name)  (a tombstone once deleted)
/// 0x02 | dir(8) | name | 0x00 | ~version(8)    older MVCC versions, newest first
/// 0x02 | dir(8) | 0xFF | created(8) | name     by-upload-time index of the directory's current entries
/// 0x03 | dir(8) | name | 0x00 | ~generation(8) noncurrent object versions (versioned buckets)
/// 0x04 | dir(8)                                DirectoryRecord (parent and name)
/// 0x05 | client(16)                            SessionRecord
/// 0x06 | client(16) | sequence(8)              the stored result of one client command
/// 0x07 | last active(8) | client(16)           session expiry index
/// </code>
/// Names are valid UTF-8 without NUL or control characters, so 0x00 ends a name and orders a name before
/// every longer name; 0xFF never occurs in UTF-8, so the time index sorts after all entries of the same
/// directory, in the same key range (and therefore the same shard). Integers are big-endian; versions
/// are stored complemented so the newest comes first.
/// </remarks>
public static class NamespaceKeys
{
    public const byte ShardMetaKind = 0x00;
    public const byte BucketKind = 0x01;
    public const byte EntryKind = 0x02;
    public const byte NoncurrentKind = 0x03;
    public const byte DirectoryKind = 0x04;
    public const byte SessionKind = 0x05;
    public const byte ResultKind = 0x06;
    public const byte SessionExpiryKind = 0x07;

    /// <summary>The byte that separates a directory's entries from its time index.</summary>
    public const byte TimeIndexSeparator = 0xFF;

    /// <summary>Key of a shard's applied state.</summary>
    public static byte[] ShardMeta(ulong shardId)
    {
        var key = new byte[10];
        key[0] = ShardMetaKind;
        BinaryPrimitives.WriteUInt64BigEndian(key.AsSpan(1), shardId);
        key[9] = 0x01;
        return key;
    }

    public static byte[] Bucket(string name) => Concat(BucketKind, Utf8(name));

    /// <summary>The range holding every bucket record.</summary>
    public static (byte[] Lower, byte[] Upper) BucketRange() => ([BucketKind], [BucketKind + 1]);

    /// <summary>Writes the current-version key of (dir, name) into <paramref name="destination"/>; returns its length.</summary>
    public static int WriteEntry(Span<byte> destination, ulong directoryId, ReadOnlySpan<byte> name)
    {
        destination[0] = EntryKind;
        BinaryPrimitives.WriteUInt64BigEndian(destination[1..], directoryId);
        name.CopyTo(destination[9..]);
        destination[9 + name.Length] = 0x00;
        return 10 + name.Length;
    }

    /// <summary>Length of the current-version key of a name of <paramref name="nameLength"/> bytes.</summary>
    public static int EntryLength(int nameLength) => 10 + nameLength;

    public static byte[] Entry(ulong directoryId, ReadOnlySpan<byte> name)
    {
        var key = new byte[EntryLength(name.Length)];
        WriteEntry(key, directoryId, name);
        return key;
    }

    /// <summary>Key of an older MVCC version of (dir, name).</summary>
    public static byte[] EntryVersion(ulong directoryId, ReadOnlySpan<byte> name, ulong version)
    {
        var key = new byte[EntryLength(name.Length) + 8];
        WriteEntry(key, directoryId, name);
        BinaryPrimitives.WriteUInt64BigEndian(key.AsSpan(key.Length - 8), ~version);
        return key;
    }

    /// <summary>The range of every MVCC key of (dir, name): the current key and all older versions.</summary>
    public static (byte[] Lower, byte[] Upper) EntryVersions(ulong directoryId, ReadOnlySpan<byte> name)
    {
        byte[] lower = Entry(directoryId, name);
        byte[] upper = (byte[])lower.Clone();
        upper[^1] = 0x01;
        return (lower, upper);
    }

    /// <summary>The range of all entry keys (every name, every version) of a directory, without its time index.</summary>
    public static (byte[] Lower, byte[] Upper) DirectoryEntries(ulong directoryId)
    {
        byte[] lower = DirectoryPrefix(EntryKind, directoryId);
        byte[] upper = [.. lower, TimeIndexSeparator];
        return (lower, upper);
    }

    /// <summary>Splits an entry key into (name, version); version is null for the current-version key.</summary>
    public static (ReadOnlyMemory<byte> Name, ulong? Version) ParseEntry(ReadOnlySpan<byte> key, out ulong directoryId)
    {
        directoryId = BinaryPrimitives.ReadUInt64BigEndian(key[1..]);
        ReadOnlySpan<byte> rest = key[9..];
        int end = rest.IndexOf((byte)0x00);
        if (key[0] != EntryKind && key[0] != NoncurrentKind || end < 0)
        {
            throw new Storage.CorruptionException($"malformed entry key {Convert.ToHexString(key)}");
        }

        byte[] name = rest[..end].ToArray();
        ReadOnlySpan<byte> suffix = rest[(end + 1)..];
        return suffix.Length switch
        {
            0 => (name, null),
            8 => (name, ~BinaryPrimitives.ReadUInt64BigEndian(suffix)),
            _ => throw new Storage.CorruptionException($"malformed entry key {Convert.ToHexString(key)}"),
        };
    }

    public static byte[] TimeIndex(ulong directoryId, ulong created, ReadOnlySpan<byte> name)
    {
        var key = new byte[18 + name.Length];
        key[0] = EntryKind;
        BinaryPrimitives.WriteUInt64BigEndian(key.AsSpan(1), directoryId);
        key[9] = TimeIndexSeparator;
        BinaryPrimitives.WriteUInt64BigEndian(key.AsSpan(10), created);
        name.CopyTo(key.AsSpan(18));
        return key;
    }

    /// <summary>The range of a directory's time index.</summary>
    public static (byte[] Lower, byte[] Upper) TimeIndexRange(ulong directoryId)
    {
        byte[] lower = [.. DirectoryPrefix(EntryKind, directoryId), TimeIndexSeparator];
        byte[] upper = DirectoryPrefix(EntryKind, directoryId + 1);
        if (directoryId == ulong.MaxValue)
        {
            upper = [EntryKind + 1];
        }

        return (lower, upper);
    }

    public static (ulong Created, byte[] Name) ParseTimeIndex(ReadOnlySpan<byte> key) =>
        (BinaryPrimitives.ReadUInt64BigEndian(key[10..]), key[18..].ToArray());

    public static byte[] Noncurrent(ulong directoryId, ReadOnlySpan<byte> name, ulong generation)
    {
        byte[] key = EntryVersion(directoryId, name, generation);
        key[0] = NoncurrentKind;
        return key;
    }

    /// <summary>The range of every noncurrent version of (dir, name).</summary>
    public static (byte[] Lower, byte[] Upper) NoncurrentVersions(ulong directoryId, ReadOnlySpan<byte> name)
    {
        (byte[] lower, byte[] upper) = EntryVersions(directoryId, name);
        lower[0] = NoncurrentKind;
        upper[0] = NoncurrentKind;
        return (lower, upper);
    }

    public static byte[] Directory(ulong directoryId) => DirectoryPrefix(DirectoryKind, directoryId);

    public static byte[] Session(ReadOnlySpan<byte> clientId) => Concat(SessionKind, clientId);

    public static byte[] Result(ReadOnlySpan<byte> clientId, ulong sequence)
    {
        var key = new byte[1 + clientId.Length + 8];
        key[0] = ResultKind;
        clientId.CopyTo(key.AsSpan(1));
        BinaryPrimitives.WriteUInt64BigEndian(key.AsSpan(1 + clientId.Length), sequence);
        return key;
    }

    public static byte[] SessionExpiry(ulong lastActive, ReadOnlySpan<byte> clientId)
    {
        var key = new byte[9 + clientId.Length];
        key[0] = SessionExpiryKind;
        BinaryPrimitives.WriteUInt64BigEndian(key.AsSpan(1), lastActive);
        clientId.CopyTo(key.AsSpan(9));
        return key;
    }

    /// <summary>The range of every key the namespace state machine owns (used by snapshots).</summary>
    public static (byte[] Lower, byte[] Upper) All() => ([ShardMetaKind], [SessionExpiryKind + 1]);

    private static byte[] DirectoryPrefix(byte kind, ulong directoryId)
    {
        var key = new byte[9];
        key[0] = kind;
        BinaryPrimitives.WriteUInt64BigEndian(key.AsSpan(1), directoryId);
        return key;
    }

    private static byte[] Concat(byte kind, ReadOnlySpan<byte> rest)
    {
        var key = new byte[1 + rest.Length];
        key[0] = kind;
        rest.CopyTo(key.AsSpan(1));
        return key;
    }

    private static byte[] Utf8(string s) => System.Text.Encoding.UTF8.GetBytes(s);
}
