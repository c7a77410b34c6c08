using System.Globalization;

namespace Strata.Cli.Chaos;

/// <summary>One broken namespace invariant: which one (<see cref="NamespaceInvariants"/>'s names) and exactly what was seen.</summary>
internal sealed record NamespaceViolation(string Invariant, string Explanation);

/// <summary>How many things an invariant looked at and how many of them broke it.</summary>
internal sealed record InvariantCount(string Invariant, int Checked, int Violations);

/// <summary>The namespace invariants' judgement of a run: what was checked, what broke, and the operations by outcome.</summary>
internal sealed record NamespaceVerdict
{
    /// <summary>Every violation found, grouped by invariant in <see cref="NamespaceInvariants.All"/>'s order.</summary>
    public required IReadOnlyList<NamespaceViolation> Violations { get; init; }

    /// <summary>Per invariant, in <see cref="NamespaceInvariants.All"/>'s order: things checked and violations.</summary>
    public required IReadOnlyList<InvariantCount> Invariants { get; init; }

    /// <summary>The namespace operations: all, then create, rename, list.</summary>
    public required IReadOnlyList<OutcomeCounts> Counts { get; init; }

    /// <summary>False when there was no final state to check (the run stopped early): nothing but the history was checked.</summary>
    public required bool Evaluated { get; init; }

    public int AcknowledgedCreates { get; init; }

    public int IndeterminateCreatesFound { get; init; }

    public int IndeterminateCreatesAbsent { get; init; }

    public int ObjectsFound { get; init; }

    public int DirectoriesFound { get; init; }

    public int EntriesListed { get; init; }

    public int ListingPages { get; init; }

    public int RenamesApplied { get; init; }

    public int RenamesRefusedIntoOwnSubtree { get; init; }

    /// <summary>The directory tree at the end, one line per directory (<c>tree/d1/d3 (d3)</c>), for the report.</summary>
    public IReadOnlyList<string> FinalTree { get; init; } = [];
}

/// <summary>
/// Checks a <see cref="NamespaceRun"/> — the recorded creates, renames and listings plus the final state read after
/// the heal — against the namespace's invariants. Pure: no I/O, no clock; thread-safe.
/// </summary>
/// <remarks>
/// <para>Expected positions come from the <em>final</em> directory tree, not from replaying renames (whose order
/// under concurrency is what is being tested): a create of name N in directory d is expected at
/// <c>finalPath(d)/N</c>, where <c>finalPath(d)</c> is where the final listing shows the directory with d's id.
/// Every object carries the index of the create that made it, so every object found is matched to one create.</para>
/// <para>The invariants (names as in the report):</para>
/// <list type="bullet">
/// <item><see cref="CreatesKept"/>: every acknowledged create's object exists, exactly at its expected position,
/// with the generation the acknowledgment named.</item>
/// <item><see cref="NoDuplicates"/>: no listing returns a path twice; no create's object, directory id or object
/// generation appears at two paths; no listing page during the run named a directory twice.</item>
/// <item><see cref="NoPhantoms"/>: every object found comes from a create that was attempted and not refused,
/// in the directory and under the name it asked for; every directory found is one the workload made.</item>
/// <item><see cref="CreateOnly"/>: no two creates of one name in one directory were both acknowledged; a create
/// refused because the name existed had a create of that name called before its answer.</item>
/// <item><see cref="Reachable"/>: every directory the workload made is reachable from the bucket root (found by
/// the listing under the tree's root), and every listed entry's parent is a listed directory.</item>
/// <item><see cref="NoCycles"/>: no directory is its own ancestor (the ids along every listed path are distinct).</item>
/// <item><see cref="RenamesRespected"/>: no rename into the moved directory's own subtree was acknowledged, none
/// outside it was refused as one, and every directory's final parent is the target of a rename that could have
/// been the last (or its first parent, if no rename of it surely took effect).</item>
/// <item><see cref="ListingsMatchStats"/>: the recursive paged listing and the walk of one-level listings return
/// the same entries, and a stat of every listed path returns the same entry.</item>
/// </list>
/// <para>Indeterminate creates (no answer) may or may not exist; they are counted both ways. Indeterminate renames
/// may or may not have taken effect.</para>
/// </remarks>
internal static class NamespaceInvariants
{
    public const string CreatesKept = "acknowledged-creates-kept";
    public const string NoDuplicates = "no-duplicates";
    public const string NoPhantoms = "no-phantoms";
    public const string CreateOnly = "create-only";
    public const string Reachable = "directories-reachable";
    public const string NoCycles = "no-cycles";
    public const string RenamesRespected = "renames-respected";
    public const string ListingsMatchStats = "listings-match-stats";

    /// <summary>Every invariant, in report order.</summary>
    public static IReadOnlyList<string> All { get; } = [CreatesKept, NoDuplicates, NoPhantoms, CreateOnly, Reachable, NoCycles, RenamesRespected, ListingsMatchStats];

    /// <summary>Checks <paramref name="run"/> (see the remarks).</summary>
    public static NamespaceVerdict Check(NamespaceRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var check = new Checker(run);
        return check.Run();
    }

    /// <summary>One check of one run: collects violations and counts as it goes.</summary>
    private sealed class Checker(NamespaceRun run)
    {
        private readonly List<NamespaceViolation> _violations = [];
        private readonly Dictionary<string, int> _checked = All.ToDictionary(i => i, _ => 0, StringComparer.Ordinal);
        private readonly Dictionary<int, NamespaceOperation> _creates = run.Operations.Where(o => o.Action == NamespaceAction.Create).ToDictionary(o => o.Index);

        public NamespaceVerdict Run()
        {
            CheckHistory();
            NamespaceFinalState? final = run.Final;
            var tree = new List<string>();
            int objects = 0, directories = 0, found = 0, absent = 0;
            if (final is not null)
            {
                CheckListingsAgainstStats(final);
                Dictionary<ulong, string> finalPaths = CheckTree(final, tree, out directories);
                objects = CheckObjects(final, finalPaths, out found, out absent);
                CheckFinalParents(final, finalPaths);
            }

            NamespaceViolation[] ordered = [.. All.SelectMany(i => _violations.Where(v => v.Invariant == i))];
            List<NamespaceOperation> ops = [.. run.Operations];
            return new NamespaceVerdict
            {
                Violations = ordered,
                Invariants = [.. All.Select(i => new InvariantCount(i, _checked[i], _violations.Count(v => v.Invariant == i)))],
                Counts =
                [
                    Outcomes("all", ops),
                    Outcomes("create", ops.Where(o => o.Action == NamespaceAction.Create)),
                    Outcomes("rename", ops.Where(o => o.Action == NamespaceAction.Rename)),
                    Outcomes("list", ops.Where(o => o.Action == NamespaceAction.List)),
                ],
                Evaluated = final is not null,
                AcknowledgedCreates = _creates.Values.Count(o => o.Outcome == ChaosOutcome.Ok),
                IndeterminateCreatesFound = found,
                IndeterminateCreatesAbsent = absent,
                ObjectsFound = objects,
                DirectoriesFound = directories,
                EntriesListed = final?.Listing.Count ?? 0,
                ListingPages = final?.ListingPages ?? 0,
                RenamesApplied = run.Operations.Count(o => o.Action == NamespaceAction.Rename && o.Outcome == ChaosOutcome.Ok),
                RenamesRefusedIntoOwnSubtree = run.Operations.Count(o => o.Action == NamespaceAction.Rename && o.Refusal == NamespaceRefusal.OwnSubtree),
                FinalTree = tree,
            };
        }

        /// <summary>What the history alone proves: exclusive creates, refusals of existing names, renames into own subtrees, listing pages.</summary>
        private void CheckHistory()
        {
            foreach (IGrouping<(string Directory, string? Name), NamespaceOperation> name in _creates.Values.GroupBy(o => (o.Directory, o.Name)).OrderBy(g => g.Min(o => o.Index)))
            {
                Count(CreateOnly);
                NamespaceOperation[] acknowledged = [.. name.Where(o => o.Outcome == ChaosOutcome.Ok).OrderBy(o => o.Index)];
                if (acknowledged.Length > 1)
                {
                    Violate(CreateOnly, $"'{name.Key.Name}' in {name.Key.Directory} was created {acknowledged.Length} times with if-generation-match 0, each acknowledged: " +
                        string.Join(", ", acknowledged.Select(o => Describe(o) + $" -> generation {o.Generation}")) +
                        "; a create-only put of an existing name must be refused");
                }

                foreach (NamespaceOperation refused in name.Where(o => o.Refusal == NamespaceRefusal.Exists).OrderBy(o => o.Index))
                {
                    Count(CreateOnly);
                    bool creatorBefore = name.Any(o => o.Index != refused.Index && o.Outcome != ChaosOutcome.Failed && o.CallNanos < refused.ReturnNanos);
                    if (!creatorBefore)
                    {
                        Violate(CreateOnly, $"{Describe(refused)} was refused because the name existed ({refused.Error}), but no other create of '{refused.Name}' in " +
                            $"{refused.Directory} that could have taken effect was called before that answer at {refused.ReturnNanos} ns");
                    }
                }
            }

            foreach (NamespaceOperation rename in run.Operations.Where(o => o.Action == NamespaceAction.Rename).OrderBy(o => o.Index))
            {
                if (rename.Outcome == ChaosOutcome.Ok)
                {
                    Count(RenamesRespected);
                    if (rename.IntoOwnSubtree == true)
                    {
                        Violate(RenamesRespected, $"{Describe(rename)} was acknowledged although its destination '{rename.Destination}' lies inside its source " +
                            $"'{rename.Source}' (both guarded by generation): {rename.Directory} became its own ancestor");
                    }
                }
                else if (rename.Refusal == NamespaceRefusal.OwnSubtree)
                {
                    Count(RenamesRespected);
                    if (rename.IntoOwnSubtree == false)
                    {
                        Violate(RenamesRespected, $"{Describe(rename)} was refused as a move into its own subtree ({rename.Error}), but the destination " +
                            $"'{rename.Destination}' is not inside the source '{rename.Source}', and the guards held both paths");
                    }
                }
            }

            foreach (NamespaceOperation list in run.Operations.Where(o => o.Action == NamespaceAction.List && o.Outcome == ChaosOutcome.Ok && o.Children is not null))
            {
                Count(NoDuplicates);
                foreach (IGrouping<string, string> twice in list.Children!.GroupBy(c => c, StringComparer.Ordinal).Where(g => g.Count() > 1))
                {
                    Violate(NoDuplicates, $"{Describe(list)} returned directory '{twice.Key}' {twice.Count()} times in one page");
                }
            }
        }

        /// <summary>Paths twice in a listing; the recursive listing against the walk; every listed path against its stat.</summary>
        private void CheckListingsAgainstStats(NamespaceFinalState final)
        {
            foreach ((string name, IReadOnlyList<NamespaceEntry> listing) in new[] { ("the recursive listing", final.Listing), ("the walk of one-level listings", final.Walk) })
            {
                foreach (IGrouping<string, NamespaceEntry> twice in listing.GroupBy(e => e.Path, StringComparer.Ordinal).Where(g => g.Count() > 1))
                {
                    Violate(NoDuplicates, $"{name} returned '{twice.Key}' {twice.Count()} times: {string.Join("; ", twice.Select(Describe))}");
                }

                _checked[NoDuplicates] += listing.Count;
            }

            Dictionary<string, NamespaceEntry> listed = Unique(final.Listing);
            Dictionary<string, NamespaceEntry> walked = Unique(final.Walk);
            foreach (string path in listed.Keys.Union(walked.Keys, StringComparer.Ordinal).Order(StringComparer.Ordinal))
            {
                Count(ListingsMatchStats);
                listed.TryGetValue(path, out NamespaceEntry? inListing);
                walked.TryGetValue(path, out NamespaceEntry? inWalk);
                if (inListing is null || inWalk is null)
                {
                    Violate(ListingsMatchStats, inListing is null
                        ? $"'{path}' was returned by the walk of one-level listings ({Describe(inWalk!)}) but not by the recursive paged listing"
                        : $"'{path}' was returned by the recursive paged listing ({Describe(inListing)}) but not by the walk of one-level listings");
                }
                else if (inListing != inWalk)
                {
                    Violate(ListingsMatchStats, $"'{path}' differs between the recursive listing ({Describe(inListing)}) and the one-level listing ({Describe(inWalk)})");
                }

                NamespaceEntry seen = inListing ?? inWalk!;
                if (!final.Stats.TryGetValue(path, out NamespaceEntry? stat))
                {
                    Violate(ListingsMatchStats, $"'{path}' was listed but never statted");
                }
                else if (stat is null)
                {
                    Violate(ListingsMatchStats, $"'{path}' was listed ({Describe(seen)}) but a stat of it says NOT_FOUND");
                }
                else if (stat != seen)
                {
                    Violate(ListingsMatchStats, $"'{path}' was listed as {Describe(seen)} but a stat of it returns {Describe(stat)}");
                }
            }
        }

        /// <summary>
        /// The directory tree from the recursive listing: every made directory found once, with its name and
        /// generation; no unknown directory; every entry's parent a listed directory; no id twice on a path.
        /// Returns each found directory's final path by id (the root included).
        /// </summary>
        private Dictionary<ulong, string> CheckTree(NamespaceFinalState final, List<string> tree, out int directoriesFound)
        {
            NamespaceDirectory root = run.Root;
            var finalPaths = new Dictionary<ulong, string> { [root.DirectoryId] = root.Path };
            Dictionary<ulong, NamespaceDirectory> made = run.Directories.ToDictionary(d => d.DirectoryId);
            Dictionary<string, NamespaceEntry> byPath = Unique(final.Listing);
            directoriesFound = 0;
            foreach (NamespaceDirectory directory in run.Directories)
            {
                Count(Reachable);
                NamespaceEntry[] places = [.. final.Listing.Where(e => e.IsDirectory && e.DirectoryId == directory.DirectoryId).DistinctBy(e => e.Path)];
                if (places.Length == 0)
                {
                    Violate(Reachable, $"directory {directory.Name} (id {directory.DirectoryId}, generation {directory.Generation}, made at '{directory.Path}') is orphaned: " +
                        $"no listing under '{root.Path}/' returns it, so it is not reachable from the bucket root");
                    continue;
                }

                directoriesFound++;
                Count(NoDuplicates);
                if (places.Length > 1)
                {
                    Violate(NoDuplicates, $"directory {directory.Name} (id {directory.DirectoryId}) is at {places.Length} places: {string.Join(", ", places.Select(p => $"'{p.Path}'"))}");
                }

                NamespaceEntry place = places[0];
                finalPaths[directory.DirectoryId] = place.Path;
                tree.Add($"{place.Path} ({directory.Name})");
                if (place.Name != directory.Name || place.Generation != directory.Generation)
                {
                    Violate(NoPhantoms, $"directory id {directory.DirectoryId} ({directory.Name}, generation {directory.Generation}) is listed as {Describe(place)}");
                }
            }

            foreach (NamespaceEntry unknown in final.Listing.Where(e => e.IsDirectory && !made.ContainsKey(e.DirectoryId)).DistinctBy(e => e.Path))
            {
                Violate(NoPhantoms, $"'{unknown.Path}' ({Describe(unknown)}) is a directory the workload never made " +
                    "(a put or rename creates missing parents: one of them ran against a path that no longer held its directory)");
            }

            foreach (NamespaceEntry entry in byPath.Values)
            {
                Count(NoCycles);
                if (!entry.Path.StartsWith(root.Path + "/", StringComparison.Ordinal))
                {
                    Violate(Reachable, $"the listing under '{root.Path}/' returned '{entry.Path}', which is not under it");
                    continue;
                }

                var ancestors = new List<(string Path, ulong Id)> { (root.Path, root.DirectoryId) };
                string[] parts = entry.Path.Split('/');
                for (int depth = 2; depth < parts.Length; depth++)
                {
                    string ancestor = string.Join('/', parts[..depth]);
                    if (!byPath.TryGetValue(ancestor, out NamespaceEntry? parent) || !parent.IsDirectory)
                    {
                        Violate(Reachable, $"'{entry.Path}' is listed, but its ancestor '{ancestor}' is {(parent is null ? "not listed" : "not a directory")}");
                        break;
                    }

                    ancestors.Add((ancestor, parent.DirectoryId));
                }

                if (entry.IsDirectory)
                {
                    ancestors.Add((entry.Path, entry.DirectoryId));
                }

                foreach (IGrouping<ulong, (string Path, ulong Id)> repeated in ancestors.GroupBy(a => a.Id).Where(g => g.Count() > 1))
                {
                    string name = made.TryGetValue(repeated.Key, out NamespaceDirectory? d) ? d.Name : repeated.Key == root.DirectoryId ? root.Name : $"id {repeated.Key}";
                    Violate(NoCycles, $"directory {name} (id {repeated.Key}) is its own ancestor on '{entry.Path}': it is at " +
                        string.Join(" and at ", repeated.Select(a => $"'{a.Path}'")));
                }
            }

            tree.Sort(StringComparer.Ordinal);
            return finalPaths;
        }

        /// <summary>Every object matched to its create, and every acknowledged create to its object. Returns the objects found.</summary>
        private int CheckObjects(NamespaceFinalState final, Dictionary<ulong, string> finalPaths, out int indeterminateFound, out int indeterminateAbsent)
        {
            Dictionary<string, string> pathOfDirectory = run.Directories.Append(run.Root)
                .Where(d => finalPaths.ContainsKey(d.DirectoryId))
                .ToDictionary(d => d.Name, d => finalPaths[d.DirectoryId], StringComparer.Ordinal);
            NamespaceEntry[] objects = [.. final.Listing.Where(e => !e.IsDirectory).DistinctBy(e => e.Path)];
            var byOp = new Dictionary<int, List<NamespaceEntry>>();
            foreach (NamespaceEntry found in objects)
            {
                Count(NoPhantoms);
                if (found.Op is null || !int.TryParse(found.Op, NumberStyles.None, CultureInfo.InvariantCulture, out int index) || !_creates.TryGetValue(index, out NamespaceOperation? create))
                {
                    Violate(NoPhantoms, $"object '{found.Path}' ({Describe(found)}) was made by no create of the workload (its op mark names none)");
                    continue;
                }

                if (!byOp.TryGetValue(index, out List<NamespaceEntry>? places))
                {
                    places = [];
                    byOp.Add(index, places);
                }

                places.Add(found);
                if (create.Outcome == ChaosOutcome.Failed)
                {
                    Violate(NoPhantoms, $"object '{found.Path}' was made by {Describe(create)}, which was refused ({create.Refusal}: {create.Error})");
                    continue;
                }

                if (found.CreatedIn != create.Directory || found.Name != create.Name)
                {
                    Violate(NoPhantoms, $"object '{found.Path}' carries the mark of {Describe(create)} but says it was made in {found.CreatedIn} as '{found.Name}'");
                    continue;
                }

                if (pathOfDirectory.TryGetValue(create.Directory, out string? directoryPath) && found.Path != $"{directoryPath}/{create.Name}")
                {
                    Violate(create.Outcome == ChaosOutcome.Ok ? CreatesKept : NoPhantoms,
                        $"object '{found.Path}' of {Describe(create)} is misplaced: {create.Directory} is at '{directoryPath}' at the end, so it belongs at '{directoryPath}/{create.Name}'");
                }
            }

            foreach (KeyValuePair<int, List<NamespaceEntry>> twice in byOp.Where(p => p.Value.Count > 1).OrderBy(p => p.Key))
            {
                Violate(NoDuplicates, $"the object of {Describe(_creates[twice.Key])} is at {twice.Value.Count} places: {string.Join(", ", twice.Value.Select(e => $"'{e.Path}'"))}");
            }

            foreach (IGrouping<ulong, NamespaceEntry> twice in objects.GroupBy(e => e.Generation).Where(g => g.Count() > 1))
            {
                Violate(NoDuplicates, $"generation {twice.Key} is at {twice.Count()} places: {string.Join(", ", twice.Select(e => $"'{e.Path}'"))}");
            }

            Dictionary<string, NamespaceEntry> byPath = Unique(final.Listing);
            indeterminateFound = 0;
            indeterminateAbsent = 0;
            foreach (NamespaceOperation create in _creates.Values.OrderBy(o => o.Index))
            {
                bool present = byOp.ContainsKey(create.Index);
                if (create.Outcome == ChaosOutcome.Indeterminate)
                {
                    _ = present ? indeterminateFound++ : indeterminateAbsent++;
                    continue;
                }

                if (create.Outcome != ChaosOutcome.Ok)
                {
                    continue;
                }

                Count(CreatesKept);
                string expected = pathOfDirectory.TryGetValue(create.Directory, out string? directoryPath) ? $"{directoryPath}/{create.Name}" : $"(under the orphaned {create.Directory})/{create.Name}";
                if (!present)
                {
                    string there = byPath.TryGetValue(expected, out NamespaceEntry? other)
                        ? $"; '{expected}' holds {(other.Op is null ? "an object without a mark" : $"the object of op {other.Op}")} ({Describe(other)})"
                        : $"; nothing is at '{expected}'";
                    Violate(CreatesKept, $"{Describe(create)} was acknowledged (generation {create.Generation}, at {create.ReturnNanos} ns) but its object is gone: " +
                        $"no entry under '{run.Root.Path}/' carries its mark{there}");
                    continue;
                }

                NamespaceEntry kept = byOp[create.Index][0];
                if (kept.Generation != create.Generation)
                {
                    Violate(CreatesKept, $"the object of {Describe(create)} at '{kept.Path}' has generation {kept.Generation}, not the acknowledged {create.Generation}");
                }
            }

            return objects.Length;
        }

        /// <summary>Each found directory's final parent must be the target of a rename that could have been its last.</summary>
        private void CheckFinalParents(NamespaceFinalState final, Dictionary<ulong, string> finalPaths)
        {
            Dictionary<string, string> nameOfPath = run.Directories.Append(run.Root)
                .Where(d => finalPaths.ContainsKey(d.DirectoryId))
                .ToDictionary(d => finalPaths[d.DirectoryId], d => d.Name, StringComparer.Ordinal);
            Dictionary<string, string> nameOfMadePath = run.Directories.Append(run.Root).ToDictionary(d => d.Path, d => d.Name, StringComparer.Ordinal);
            foreach (NamespaceDirectory directory in run.Directories.Where(d => finalPaths.ContainsKey(d.DirectoryId)))
            {
                string path = finalPaths[directory.DirectoryId];
                string parentPath = path[..path.LastIndexOf('/')];
                if (!nameOfPath.TryGetValue(parentPath, out string? parent))
                {
                    continue; // reported by the tree checks
                }

                Count(RenamesRespected);
                NamespaceOperation[] renames = [.. run.Operations.Where(o => o.Action == NamespaceAction.Rename && o.Directory == directory.Name)];
                NamespaceOperation[] applied = [.. renames.Where(o => o.Outcome == ChaosOutcome.Ok)];
                var candidates = new HashSet<string>(StringComparer.Ordinal);
                if (applied.Length == 0)
                {
                    string madeParent = directory.Path[..directory.Path.LastIndexOf('/')];
                    candidates.Add(nameOfMadePath.TryGetValue(madeParent, out string? first) ? first : madeParent);
                }

                // An acknowledged rename may be the last unless another acknowledged one was called after it returned.
                foreach (NamespaceOperation rename in applied.Where(r => !applied.Any(later => later.CallNanos > r.ReturnNanos)))
                {
                    candidates.Add(rename.Parent!);
                }

                // One without an answer may take effect at any time after its call, so it may be the last.
                foreach (NamespaceOperation rename in renames.Where(o => o.Outcome == ChaosOutcome.Indeterminate))
                {
                    candidates.Add(rename.Parent!);
                }

                if (!candidates.Contains(parent))
                {
                    Violate(RenamesRespected, $"{directory.Name} ends under {parent} ('{path}'), but no rename that could have been its last moved it there " +
                        $"(possible final parents: {string.Join(", ", candidates.Order(StringComparer.Ordinal))}; {applied.Length} acknowledged renames of it: " +
                        $"{string.Join(", ", applied.Select(r => $"op {r.Index} under {r.Parent} [{r.CallNanos}, {r.ReturnNanos}]"))})");
                }
            }
        }

        private void Count(string invariant) => _checked[invariant]++;

        private void Violate(string invariant, string explanation) => _violations.Add(new NamespaceViolation(invariant, explanation));

        private static Dictionary<string, NamespaceEntry> Unique(IReadOnlyList<NamespaceEntry> entries)
        {
            var byPath = new Dictionary<string, NamespaceEntry>(StringComparer.Ordinal);
            foreach (NamespaceEntry entry in entries)
            {
                byPath.TryAdd(entry.Path, entry);
            }

            return byPath;
        }
    }

    /// <summary>Operations by outcome.</summary>
    public static OutcomeCounts Outcomes(string kind, IEnumerable<NamespaceOperation> operations)
    {
        List<NamespaceOperation> all = [.. operations];
        return new OutcomeCounts(kind, all.Count(o => o.Outcome == ChaosOutcome.Ok), all.Count(o => o.Outcome == ChaosOutcome.Failed),
            all.Count(o => o.Outcome == ChaosOutcome.Indeterminate));
    }

    /// <summary>E.g. <c>op 12 (client 3, create of 'k2' in d1 at 'tree/d0/d1/k2', [100, 200] ns)</c>.</summary>
    public static string Describe(NamespaceOperation op)
    {
        ArgumentNullException.ThrowIfNull(op);
        string what = op.Action switch
        {
            NamespaceAction.Create => $"create of '{op.Name}' in {op.Directory} at '{op.Path}'",
            NamespaceAction.Rename => $"rename of {op.Directory} under {op.Parent} ('{op.Source}' -> '{op.Destination}')",
            _ => $"listing of {op.Directory} at '{op.Path}'",
        };
        string answered = op.ReturnNanos is long r ? r.ToString(CultureInfo.InvariantCulture) : "no answer";
        return string.Create(CultureInfo.InvariantCulture, $"op {op.Index} (client {op.Client}, {what}, [{op.CallNanos}, {answered}] ns)");
    }

    /// <summary>E.g. <c>object generation 5, metageneration 1, size 13, etag op12, op 12 in d1</c>.</summary>
    public static string Describe(NamespaceEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return entry.IsDirectory
            ? string.Create(CultureInfo.InvariantCulture, $"directory id {entry.DirectoryId}, generation {entry.Generation}, metageneration {entry.Metageneration}")
            : string.Create(CultureInfo.InvariantCulture,
                $"object generation {entry.Generation}, metageneration {entry.Metageneration}, size {entry.Size}, etag {entry.Etag}, op {entry.Op ?? "none"} in {entry.CreatedIn ?? "?"}");
    }
}
