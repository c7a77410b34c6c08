namespace Strata.Cli.Chaos;

/// <summary>What one operation of the namespace workload did (the metadata registers' reads, writes and cas are <see cref="ChaosOperation"/>s).</summary>
internal enum NamespaceAction
{
    /// <summary>A create-only put of an object in one of the moving directories, guarded by that directory's generation (one transaction).</summary>
    Create,

    /// <summary>A move of one moving directory under another (or back under the tree's root), guarded by both directories' generations (one transaction).</summary>
    Rename,

    /// <summary>A one-level listing of a directory (the clients' way to learn where the directories moved); changes nothing.</summary>
    List,
}

/// <summary>
/// One create, rename or listing of the namespace workload as recorded: who issued it, what it asked, when it was
/// called and answered on the run's clock, and what came back. One line of <c>namespace-history.jsonl</c>.
/// </summary>
/// <remarks>
/// Directories are named by their <em>logical</em> name (<c>d0</c>, <c>d1</c>, ...; <c>tree</c> for the fixed root),
/// which never changes and is unique, while their paths change with every rename. An object created by operation
/// N carries N in its ETag (<c>opN</c>) and in its user metadata (<c>op</c>, and <c>dir</c>, the logical directory it
/// was created in), so the final state says which create put every object there.
/// </remarks>
internal sealed record NamespaceOperation
{
    /// <summary>Position in the run (shared with the metadata registers' operations: every index below --ops is used once).</summary>
    public required int Index { get; init; }

    /// <summary>Jepsen's process: the client's number, renumbered after each indeterminate operation.</summary>
    public required int Process { get; init; }

    /// <summary>The client (0..clients-1) that issued it.</summary>
    public required int Client { get; init; }

    public required NamespaceAction Action { get; init; }

    /// <summary>Create: the directory created in; rename: the directory moved; list: the directory listed (logical names).</summary>
    public required string Directory { get; init; }

    /// <summary>Create: the object's name.</summary>
    public string? Name { get; init; }

    /// <summary>Rename: the directory it was moved under (logical name, <c>tree</c> for the root).</summary>
    public string? Parent { get; init; }

    /// <summary>Create: the object path sent; list: the directory path listed (both from the client's view of the tree).</summary>
    public string? Path { get; init; }

    /// <summary>Rename: the source path sent.</summary>
    public string? Source { get; init; }

    /// <summary>Rename: the destination path sent.</summary>
    public string? Destination { get; init; }

    /// <summary>Rename: the destination lies inside the source's subtree as the client saw the tree, so the server must refuse it.</summary>
    public bool? IntoOwnSubtree { get; init; }

    /// <summary>When the request was about to be sent (ns since the run began).</summary>
    public required long CallNanos { get; init; }

    /// <summary>When the answer arrived; null when there was none (indeterminate).</summary>
    public long? ReturnNanos { get; init; }

    public required ChaosOutcome Outcome { get; init; }

    /// <summary>Why a failed operation was refused: <see cref="NamespaceRefusal"/>'s constants.</summary>
    public string? Refusal { get; init; }

    /// <summary>The gRPC status and message of a failed or indeterminate call.</summary>
    public string? Error { get; init; }

    /// <summary>Create acknowledged: the object's generation; create refused as existing: the existing object's generation.</summary>
    public ulong? Generation { get; init; }

    /// <summary>List: the subdirectories returned (logical names).</summary>
    public IReadOnlyList<string>? Children { get; init; }

    /// <summary>For a call the client gave up on: the attempts it made.</summary>
    public int? Attempts { get; init; }
}

/// <summary>Why a create or rename was refused, as recorded in <see cref="NamespaceOperation.Refusal"/>.</summary>
internal static class NamespaceRefusal
{
    /// <summary>Create: an entry of that name already existed in the directory (if-generation-match 0).</summary>
    public const string Exists = "exists";

    /// <summary>A guarded directory was not at the path the client believed (it moved): the guard refused the whole transaction.</summary>
    public const string Moved = "moved";

    /// <summary>Rename: the destination lay inside the moved directory's own subtree.</summary>
    public const string OwnSubtree = "own-subtree";

    /// <summary>Rename: the directory already was under that parent (source and destination the same path).</summary>
    public const string SamePath = "same-path";

    /// <summary>A path did not resolve.</summary>
    public const string NotFound = "not-found";

    /// <summary>Any other definite refusal.</summary>
    public const string Other = "refused";
}

/// <summary>A directory the workload made before it started: the fixed root or one of the moving directories.</summary>
/// <param name="Name">Logical name (<c>tree</c>, <c>d0</c>, ...), also its entry name.</param>
/// <param name="Path">Its path when made.</param>
/// <param name="DirectoryId">Its stable directory id.</param>
/// <param name="Generation">Its generation (kept by renames: the guards of the workload pin it).</param>
internal sealed record NamespaceDirectory(string Name, string Path, ulong DirectoryId, ulong Generation);

/// <summary>One entry of the final state, as a listing or a stat returned it.</summary>
/// <param name="Path">Full path in the bucket.</param>
/// <param name="IsDirectory">A directory (else an object).</param>
/// <param name="Generation">Generation.</param>
/// <param name="Metageneration">Metageneration.</param>
/// <param name="DirectoryId">A directory's id (0 for objects).</param>
/// <param name="Size">An object's size.</param>
/// <param name="Etag">An object's ETag.</param>
/// <param name="Op">An object's <c>op</c> user metadata: the index of the create that made it.</param>
/// <param name="CreatedIn">An object's <c>dir</c> user metadata: the logical directory it was created in.</param>
internal sealed record NamespaceEntry(
    string Path, bool IsDirectory, ulong Generation, ulong Metageneration, ulong DirectoryId, ulong Size, string Etag, string? Op, string? CreatedIn)
{
    /// <summary>The last component of <see cref="Path"/>.</summary>
    public string Name => Path[(Path.LastIndexOf('/') + 1)..];

    /// <summary>The path of the directory holding it ("" for a top-level entry).</summary>
    public string ParentPath => Path.LastIndexOf('/') is int slash and >= 0 ? Path[..slash] : "";
}

/// <summary>
/// The namespace after the run, read through the shard's leader once every node was healed and the cluster served:
/// a recursive listing in small pages, a walk of one-level listings from the root, and a stat of every path either
/// returned.
/// </summary>
internal sealed record NamespaceFinalState
{
    /// <summary>The recursive listing of the tree's root (delimiter ""), page by page, in the order returned.</summary>
    public required IReadOnlyList<NamespaceEntry> Listing { get; init; }

    /// <summary>Pages the recursive listing took.</summary>
    public required int ListingPages { get; init; }

    /// <summary>Every entry seen by walking one-level listings (delimiter "/") from the tree's root into every directory returned.</summary>
    public required IReadOnlyList<NamespaceEntry> Walk { get; init; }

    /// <summary>The stat of every path of <see cref="Listing"/> and <see cref="Walk"/>; null: NOT_FOUND.</summary>
    public required IReadOnlyDictionary<string, NamespaceEntry?> Stats { get; init; }
}

/// <summary>Everything the namespace workload produced: the input of <see cref="NamespaceInvariants"/>.</summary>
internal sealed record NamespaceRun
{
    /// <summary>The fixed root of the moving directories (never renamed).</summary>
    public required NamespaceDirectory Root { get; init; }

    /// <summary>The moving directories, as made before the workload started.</summary>
    public required IReadOnlyList<NamespaceDirectory> Directories { get; init; }

    /// <summary>Every create, rename and listing, by index.</summary>
    public required IReadOnlyList<NamespaceOperation> Operations { get; init; }

    /// <summary>The final state; null when the run stopped before it was read.</summary>
    public NamespaceFinalState? Final { get; init; }
}
