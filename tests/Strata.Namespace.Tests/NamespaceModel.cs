using Strata.Namespace.Commands;

namespace Strata.Namespace.Tests;

/// <summary>
/// The namespace as plainly as it can be said: per bucket, a sorted map from full path to entry, and a map
/// from path to the generations of its noncurrent versions. The model-based test runs the same operations
/// here and on the real state machine and compares every result.
/// </summary>
internal sealed class NamespaceModel
{
    public sealed record Entry(EntryKind Kind, ulong Generation, ulong Metageneration, ulong Size);

    public sealed class Bucket
    {
        public bool Versioning { get; init; }

        /// <summary>The timestamp of the bucket's creation: tells a re-created bucket from the old one.</summary>
        public ulong Created { get; init; }

        public SortedDictionary<string, Entry> Live { get; init; } = new(StringComparer.Ordinal);

        public Dictionary<string, List<ulong>> Noncurrent { get; init; } = new(StringComparer.Ordinal);

        public Bucket Clone() => new()
        {
            Versioning = Versioning,
            Created = Created,
            Live = new SortedDictionary<string, Entry>(Live, StringComparer.Ordinal),
            Noncurrent = Noncurrent.ToDictionary(p => p.Key, p => new List<ulong>(p.Value), StringComparer.Ordinal),
        };
    }

    public sealed class Rejected(ResultCode code) : Exception(code.ToString())
    {
        public ResultCode Code { get; } = code;
    }

    public Dictionary<string, Bucket> Buckets { get; init; } = new(StringComparer.Ordinal);

    public NamespaceModel Clone() => new() { Buckets = Buckets.ToDictionary(p => p.Key, p => p.Value.Clone(), StringComparer.Ordinal) };

    /// <summary>
    /// What a read at an old timestamp sees: bucket records are not versioned (a read uses the bucket as it is
    /// now), entries are; entries of an older incarnation of a re-created bucket are not visible.
    /// </summary>
    public static NamespaceModel ReadView(NamespaceModel then, NamespaceModel now)
    {
        var view = new NamespaceModel();
        foreach ((string name, Bucket current) in now.Buckets)
        {
            view.Buckets[name] = then.Buckets.TryGetValue(name, out Bucket? old) && old.Created == current.Created
                ? old
                : new Bucket { Versioning = current.Versioning, Created = current.Created };
        }

        return view;
    }

    public Bucket RequireBucket(string name) =>
        Buckets.TryGetValue(name, out Bucket? bucket) ? bucket : throw new Rejected(ResultCode.ResultNotFound);

    public static string Parent(string path) => path.Contains('/') ? path[..path.LastIndexOf('/')] : "";

    /// <summary>Walks the parents of <paramref name="path"/>, creating missing ones when asked.</summary>
    public static void WalkParents(Bucket bucket, string path, bool create, ulong timestamp)
    {
        string[] parts = path.Split('/');
        string walked = "";
        for (int i = 0; i < parts.Length - 1; i++)
        {
            walked = walked.Length == 0 ? parts[i] : walked + "/" + parts[i];
            if (bucket.Live.TryGetValue(walked, out Entry? entry))
            {
                if (entry.Kind != EntryKind.Directory)
                {
                    throw new Rejected(ResultCode.ResultFailedPrecondition);
                }
            }
            else if (create)
            {
                bucket.Live[walked] = new Entry(EntryKind.Directory, timestamp, 1, 0);
            }
            else
            {
                throw new Rejected(ResultCode.ResultNotFound);
            }
        }
    }

    public static void Check(Entry? live, Preconditions? preconditions)
    {
        if (preconditions is null)
        {
            return;
        }

        bool ok = true;
        if (preconditions.HasIfGenerationMatch)
        {
            ok &= preconditions.IfGenerationMatch == 0 ? live is null : live?.Generation == preconditions.IfGenerationMatch;
        }

        if (preconditions.HasIfMetagenerationMatch)
        {
            ok &= live?.Metageneration == preconditions.IfMetagenerationMatch;
        }

        if (!ok)
        {
            throw new Rejected(ResultCode.ResultFailedPrecondition);
        }
    }

    public static void KeepNoncurrent(Bucket bucket, string path)
    {
        if (bucket.Versioning && bucket.Live.TryGetValue(path, out Entry? live) && live.Kind == EntryKind.Object)
        {
            if (!bucket.Noncurrent.TryGetValue(path, out List<ulong>? versions))
            {
                bucket.Noncurrent[path] = versions = [];
            }

            versions.Add(live.Generation);
        }
    }

    public static bool HasChildren(Bucket bucket, string directory)
    {
        string prefix = directory.Length == 0 ? "" : directory + "/";
        return bucket.Live.Keys.Any(p => p.StartsWith(prefix, StringComparison.Ordinal) && Parent(p) == directory)
            || bucket.Noncurrent.Any(p => p.Value.Count > 0 && Parent(p.Key) == directory);
    }

    /// <summary>Moves an entry, and for a directory everything below it (the model's paths are absolute).</summary>
    public static void Move(Bucket bucket, string source, string destination, Entry moved)
    {
        bucket.Live.Remove(source);
        bucket.Live[destination] = moved;
        if (moved.Kind != EntryKind.Directory)
        {
            return;
        }

        string prefix = source + "/";
        foreach (string path in bucket.Live.Keys.Where(p => p.StartsWith(prefix, StringComparison.Ordinal)).ToList())
        {
            Entry entry = bucket.Live[path];
            bucket.Live.Remove(path);
            bucket.Live[destination + "/" + path[prefix.Length..]] = entry;
        }

        foreach (string path in bucket.Noncurrent.Keys.Where(p => p.StartsWith(prefix, StringComparison.Ordinal)).ToList())
        {
            List<ulong> versions = bucket.Noncurrent[path];
            bucket.Noncurrent.Remove(path);
            bucket.Noncurrent[destination + "/" + path[prefix.Length..]] = versions;
        }
    }

    /// <summary>Listing in path order, where a directory orders as its path plus '/'.</summary>
    public static List<string> List(Bucket bucket, string directory, bool recursive)
    {
        string prefix = directory.Length == 0 ? "" : directory + "/";
        return bucket.Live
            .Where(p => p.Key.StartsWith(prefix, StringComparison.Ordinal) && (recursive || Parent(p.Key) == directory))
            .Select(p => p.Value.Kind == EntryKind.Directory ? p.Key + "/" : p.Key)
            .Order(StringComparer.Ordinal)
            .ToList();
    }
}
