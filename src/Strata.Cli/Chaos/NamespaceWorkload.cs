using System.Globalization;
using Strata.Api.V1;
using Strata.Client;
using Strata.Linearizability.Models;

namespace Strata.Cli.Chaos;

/// <summary>
/// The namespace workload of <c>strata chaos --workload namespace</c>: <see cref="ChaosOptions.Clients"/> clients
/// create objects in a few directories that other clients move under one another, update metadata conditionally,
/// and list directories; every call and answer is recorded (creates, renames and listings as
/// <see cref="NamespaceOperation"/>s, the metadata registers' operations as <see cref="ChaosOperation"/>s in the
/// run's <see cref="ChaosHistory"/>), for <see cref="NamespaceInvariants"/> and the linearizability checker.
/// </summary>
/// <remarks>
/// <para><b>Layout.</b> Before the workload (<see cref="SetUpAsync"/>): a fixed directory <c>tree</c> and
/// <see cref="DirectoryCount"/> directories <c>tree/d0</c> ... that move. Each directory has a unique name and a
/// generation renames keep, so a client names a directory by its path <em>and</em> its generation.</para>
/// <para><b>Operations</b> (seeded per client): 60% creates, 10% directory renames, 20% metadata register
/// operations, 10% listings, plus the listings a client makes to find directories that moved.</para>
/// <list type="bullet">
/// <item><b>create</b>: one transaction: a guard that the directory is at the path the client believes
/// (if-generation-match its generation), then a create-only put (if-generation-match 0) of an object in it — half
/// the time a name shared by every client (<c>k{index/40}-0</c>..<c>-2</c>: concurrent creates of fresh names collide
/// all run long), half a name of its own.
/// The guard keeps a put from creating missing parents at a stale path. The object's ETag and user metadata name
/// the operation and the directory.</item>
/// <item><b>rename</b>: one transaction: a guard on the new parent's path and generation, then a rename of the
/// directory (precondition: its generation) to <c>{parent path}/{its name}</c>. The new parent is any other
/// directory or the root, so some moves go into the moved directory's own subtree: the server must refuse those.</item>
/// <item><b>list</b>: a one-level listing of a directory (directories sort before the objects, so one small page
/// has them all); the clients learn the tree this way. After a create or rename refused because a directory was not
/// where the client believed, the client relists the tree from the root (each listing one operation).</item>
/// <item><b>metadata registers</b> (<see cref="ChaosOptions.Keys"/> objects <c>meta/m000</c>...; the value is the
/// user metadata <c>v</c>): read (Stat), write (PutObject) and cas (PatchObject with if-generation-match and
/// if-metageneration-match on what the client last saw, so the pair names one value): compare-and-set registers
/// checked for linearizability by <see cref="HistoryCheck"/>. Their reads go where <see cref="ReadRouter"/> sends them
/// (<see cref="ChaosOptions.Reads"/>); everything else goes through the client's shard-aware route.</item>
/// </list>
/// <para><b>Outcomes</b> as in <see cref="RegisterWorkload"/>: a timeout or lost connection is indeterminate,
/// never a failure; definite refusals are failed with the reason (<see cref="NamespaceRefusal"/>).</para>
/// <para><b>Concurrency.</b> <see cref="SetUpAsync"/> once, then <see cref="RunAsync"/> once (every client
/// concurrently), then <see cref="ReadFinalStateAsync"/> and <see cref="ToRun"/>.</para>
/// </remarks>
internal sealed partial class NamespaceWorkload(
    ChaosOptions options, string bucket, IReadOnlyList<StrataClient> clients, ReadRouter reads, ChaosHistory registers, ChaosClock clock, IOperationGate gate,
    Action<int>? started = null)
{
    /// <summary>The fixed directory holding the moving ones.</summary>
    public const string RootName = "tree";

    /// <summary>Moving directories <c>d0</c>..<c>d5</c>.</summary>
    public const int DirectoryCount = 6;

    /// <summary>Shared names per window of <see cref="SharedNameWindow"/> operations (<c>k{window}-0</c>..): every client creates them, so creates collide.</summary>
    public const int SharedNames = 3;

    /// <summary>Operations (by index) during which the same shared names are drawn: fresh names race all run long instead of only at its start.</summary>
    public const int SharedNameWindow = 40;

    private const double CreateShare = 0.6;
    private const double RenameShare = 0.1;
    private const double RegisterShare = 0.2;

    private readonly ChaosOptions _options = options;
    private readonly string _bucket = bucket;
    private readonly IReadOnlyList<StrataClient> _clients = clients;
    private readonly ReadRouter _reads = reads;
    private readonly ChaosHistory _registers = registers;
    private readonly ChaosClock _clock = clock;
    private readonly IOperationGate _gate = gate;
    private readonly Action<int>? _started = started;
    private readonly Lock _lock = new();
    private readonly List<NamespaceOperation> _operations = [];
    private NamespaceDirectory? _root;
    private IReadOnlyList<NamespaceDirectory> _directories = [];
    private int _next;

    /// <summary>The object path of metadata register <paramref name="number"/>.</summary>
    public static string RegisterKey(int number) => string.Create(CultureInfo.InvariantCulture, $"meta/m{number:D3}");

    /// <summary>The metadata registers' paths.</summary>
    public IReadOnlyList<string> RegisterKeys => [.. Enumerable.Range(0, _options.Keys).Select(RegisterKey)];

    /// <summary>A metadata register's value in <paramref name="entry"/> (its user metadata <c>v</c>; -1 when it has none).</summary>
    public static long RegisterValue(Entry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return entry.Attributes?.UserMetadata.TryGetValue("v", out string? v) == true && long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out long value) ? value : -1;
    }

    /// <summary>Makes <c>tree</c> and the moving directories (through a patient client, before any fault).</summary>
    public async Task SetUpAsync(StrataClient client, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        Entry root = await client.MakeDirectoryAsync(_bucket, RootName, cancellationToken: cancellationToken).ConfigureAwait(false);
        _root = new NamespaceDirectory(RootName, RootName, root.DirectoryId, root.Generation);
        var made = new List<NamespaceDirectory>();
        for (int d = 0; d < DirectoryCount; d++)
        {
            string name = DirectoryName(d);
            Entry entry = await client.MakeDirectoryAsync(_bucket, $"{RootName}/{name}", cancellationToken: cancellationToken).ConfigureAwait(false);
            made.Add(new NamespaceDirectory(name, $"{RootName}/{name}", entry.DirectoryId, entry.Generation));
        }

        _directories = made;
    }

    /// <summary>Runs every client until <see cref="ChaosOptions.Operations"/> operations were issued and answered (or their outcome became unknown).</summary>
    public Task RunAsync(CancellationToken cancellationToken)
    {
        if (_root is null)
        {
            throw new InvalidOperationException("SetUpAsync must run first");
        }

        return Task.WhenAll(Enumerable.Range(0, _clients.Count).Select(c => new ClientRun(this, c).RunAsync(cancellationToken)));
    }

    /// <summary>What the workload did, with <paramref name="final"/> (null when the run stopped before it was read).</summary>
    public NamespaceRun ToRun(NamespaceFinalState? final)
    {
        lock (_lock)
        {
            return new NamespaceRun
            {
                Root = _root ?? new NamespaceDirectory(RootName, RootName, 0, 0),
                Directories = _directories,
                Operations = [.. _operations.OrderBy(o => o.Index)],
                Final = final,
            };
        }
    }

    private static string DirectoryName(int number) => string.Create(CultureInfo.InvariantCulture, $"d{number}");

    private void Record(NamespaceOperation operation)
    {
        lock (_lock)
        {
            _operations.Add(operation);
        }
    }

    /// <summary>One client's loop: its random source, pacing, view of the tree and of the registers.</summary>
    private sealed class ClientRun(NamespaceWorkload workload, int number)
    {
        private readonly int _number = number;
        private readonly Random _random = new(unchecked((workload._options.Seed * 7919) + number + 104_723));
        private readonly StrataClient _client = workload._clients[number];
        private readonly Dictionary<string, string> _paths = workload._directories.ToDictionary(d => d.Name, d => d.Path, StringComparer.Ordinal);
        private readonly Dictionary<string, ulong> _generations = workload._directories.Append(workload._root!).ToDictionary(d => d.Name, d => d.Generation, StringComparer.Ordinal);
        private readonly Dictionary<string, (long Value, ulong Generation, ulong Metageneration)> _known = new(StringComparer.Ordinal);
        private readonly TimeSpan _period = workload._options.Rate > 0 ? TimeSpan.FromSeconds(workload._clients.Count / workload._options.Rate) : TimeSpan.Zero;
        private long _nextStart = workload._clock.Now;
        private int _process = number;

        // Directories whose path the client no longer trusts (an operation on them was refused as stale, or got no answer).
        private readonly HashSet<string> _stale = new(StringComparer.Ordinal);

        public async Task RunAsync(CancellationToken cancellationToken)
        {
            await Task.Yield();
            _paths[RootName] = RootName;
            while (true)
            {
                if (_stale.Count > 0)
                {
                    if (!await RelistTreeAsync(cancellationToken).ConfigureAwait(false))
                    {
                        return;
                    }

                    continue;
                }

                int? index = await BeginAsync(cancellationToken).ConfigureAwait(false);
                if (index is not int i)
                {
                    return;
                }

                double roll = _random.NextDouble();
                if (roll < CreateShare)
                {
                    await CreateAsync(i, cancellationToken).ConfigureAwait(false);
                }
                else if (roll < CreateShare + RenameShare)
                {
                    await RenameAsync(i, cancellationToken).ConfigureAwait(false);
                }
                else if (roll < CreateShare + RenameShare + RegisterShare)
                {
                    await RegisterAsync(i, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    string directory = _random.Next(DirectoryCount + 1) == DirectoryCount ? RootName : DirectoryName(_random.Next(DirectoryCount));
                    await ListAsync(i, directory, cancellationToken).ConfigureAwait(false);
                }

                cancellationToken.ThrowIfCancellationRequested();
            }
        }

        /// <summary>Takes the next operation index, waits for the fault gate and the client's pace; null when the run's operations are all taken.</summary>
        private async Task<int?> BeginAsync(CancellationToken cancellationToken)
        {
            int index = Interlocked.Increment(ref workload._next) - 1;
            if (index >= workload._options.Operations)
            {
                return null;
            }

            await workload._gate.BeforeOperationAsync(index, cancellationToken).ConfigureAwait(false);
            if (_period > TimeSpan.Zero)
            {
                long wait = _nextStart - workload._clock.Now;
                if (wait > 0)
                {
                    await Task.Delay(TimeSpan.FromTicks(wait / 100), cancellationToken).ConfigureAwait(false);
                }

                _nextStart = Math.Max(_nextStart, workload._clock.Now) + (long)(_period.TotalSeconds * 1e9);
            }

            workload._started?.Invoke(index);
            return index;
        }

        private async Task CreateAsync(int index, CancellationToken cancellationToken)
        {
            string directory = DirectoryName(_random.Next(DirectoryCount));
            string name = _random.Next(2) == 0
                ? string.Create(CultureInfo.InvariantCulture, $"k{index / SharedNameWindow}-{_random.Next(SharedNames)}")
                : string.Create(CultureInfo.InvariantCulture, $"n{_number}-{index}");
            string directoryPath = _paths[directory];
            var call = new NamespaceOperation
            {
                Index = index, Process = _process, Client = _number, Action = NamespaceAction.Create, Directory = directory, Name = name,
                Path = $"{directoryPath}/{name}", CallNanos = workload._clock.Now, Outcome = ChaosOutcome.Indeterminate,
            };
            var attributes = new ObjectAttributes
            {
                Size = (ulong)index + 1,
                Etag = string.Create(CultureInfo.InvariantCulture, $"op{index}"),
                ContentType = "application/octet-stream",
                Tier = Tier.Ssd,
                UserMetadata = { ["op"] = index.ToString(CultureInfo.InvariantCulture), ["dir"] = directory },
            };
            StrataTransaction transaction = new StrataTransaction()
                .Guard(workload._bucket, directoryPath, new Preconditions { IfGenerationMatch = _generations[directory] })
                .Put(workload._bucket, call.Path, attributes, new Preconditions { IfGenerationMatch = 0 });
            NamespaceOperation done = await CommitAsync(call, transaction, cancellationToken).ConfigureAwait(false);
            Finish(done);
        }

        private async Task RenameAsync(int index, CancellationToken cancellationToken)
        {
            string moving = DirectoryName(_random.Next(DirectoryCount));
            string parent = PickParent(moving);
            if (parent == ParentOf(moving))
            {
                parent = PickParent(moving);
            }

            string source = _paths[moving];
            string destination = $"{_paths[parent]}/{moving}";
            var call = new NamespaceOperation
            {
                Index = index, Process = _process, Client = _number, Action = NamespaceAction.Rename, Directory = moving, Parent = parent,
                Source = source, Destination = destination, IntoOwnSubtree = destination.StartsWith(source + "/", StringComparison.Ordinal),
                CallNanos = workload._clock.Now, Outcome = ChaosOutcome.Indeterminate,
            };
            StrataTransaction transaction = new StrataTransaction()
                .Guard(workload._bucket, _paths[parent], new Preconditions { IfGenerationMatch = _generations[parent] })
                .Rename(workload._bucket, source, destination, new Preconditions { IfGenerationMatch = _generations[moving] });
            NamespaceOperation done = await CommitAsync(call, transaction, cancellationToken).ConfigureAwait(false);
            if (done.Outcome == ChaosOutcome.Ok)
            {
                Moved(source, destination);
            }

            Finish(done);
        }

        /// <summary>Any directory but <paramref name="moving"/>, or the root (drawn in its place too, so about 2 in 7).</summary>
        private string PickParent(string moving)
        {
            int pick = _random.Next(DirectoryCount + 1);
            return pick == DirectoryCount || DirectoryName(pick) == moving ? RootName : DirectoryName(pick);
        }

        /// <summary>The logical parent of <paramref name="directory"/> in this client's view.</summary>
        private string ParentOf(string directory)
        {
            string path = _paths[directory];
            string parentPath = path[..path.LastIndexOf('/')];
            return _paths.FirstOrDefault(p => p.Value == parentPath).Key ?? RootName;
        }

        /// <summary>Every directory at or under <paramref name="from"/> in this client's view now lies under <paramref name="to"/>.</summary>
        private void Moved(string from, string to)
        {
            foreach ((string name, string path) in _paths.ToArray())
            {
                if (path == from || path.StartsWith(from + "/", StringComparison.Ordinal))
                {
                    _paths[name] = to + path[from.Length..];
                }
            }
        }

        /// <summary>Commits a create or rename transaction and classifies its answer; never throws for a node's answer.</summary>
        private async Task<NamespaceOperation> CommitAsync(NamespaceOperation call, StrataTransaction transaction, CancellationToken cancellationToken)
        {
            call = call with { CallNanos = workload._clock.Now };
            try
            {
                CommitResponse response = await _client.CommitAsync(transaction, cancellationToken: cancellationToken).ConfigureAwait(false);
                return call with { ReturnNanos = workload._clock.Now, Outcome = ChaosOutcome.Ok, Generation = response.Entries[1].Generation };
            }
            catch (StrataException e)
            {
                return Classify(call, e, workload._clock.Now);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                workload.Record(call with { Error = "the run was cancelled while the call was outstanding" });
                throw;
            }
            catch (OperationCanceledException e)
            {
                return call with { Error = RegisterWorkload.AttemptDeadline(e) };
            }
        }

        /// <summary>Records <paramref name="done"/> and updates what the client believes.</summary>
        private void Finish(NamespaceOperation done)
        {
            workload.Record(done);
            bool unknown = done.Outcome == ChaosOutcome.Indeterminate;
            if (unknown)
            {
                // It may still be in flight: the client goes on as a new process.
                _process += workload._clients.Count;
            }

            if (unknown || done.Refusal is NamespaceRefusal.Moved or NamespaceRefusal.NotFound or NamespaceRefusal.SamePath)
            {
                _stale.Add(done.Directory);
                if (done.Parent is { } parent && parent != RootName)
                {
                    _stale.Add(parent);
                }
            }
        }

        /// <summary>
        /// Lists the tree breadth-first from the root, one listing (one operation) per directory, until every stale
        /// directory was seen in a listing (or the tree was walked); false when the run's operations ran out.
        /// </summary>
        private async Task<bool> RelistTreeAsync(CancellationToken cancellationToken)
        {
            var queue = new Queue<string>([RootName]);
            var seen = new HashSet<string>(StringComparer.Ordinal) { RootName };
            while (_stale.Count > 0 && queue.TryDequeue(out string? directory))
            {
                int? index = await BeginAsync(cancellationToken).ConfigureAwait(false);
                if (index is not int i)
                {
                    return false;
                }

                NamespaceOperation done = await ListAsync(i, directory, cancellationToken).ConfigureAwait(false);
                foreach (string child in done.Children ?? [])
                {
                    _stale.Remove(child);
                    if (seen.Add(child))
                    {
                        queue.Enqueue(child);
                    }
                }
            }

            // What was not found moved while the walk went on: the next refusal says so again.
            _stale.Clear();
            return true;
        }

        /// <summary>One page of the directories right under <paramref name="directory"/> (they sort before the objects: <c>d</c> before <c>k</c> and <c>n</c>).</summary>
        private async Task<NamespaceOperation> ListAsync(int index, string directory, CancellationToken cancellationToken)
        {
            string path = _paths[directory];
            var call = new NamespaceOperation
            {
                Index = index, Process = _process, Client = _number, Action = NamespaceAction.List, Directory = directory, Path = path,
                CallNanos = workload._clock.Now, Outcome = ChaosOutcome.Indeterminate,
            };
            NamespaceOperation done;
            try
            {
                ListResponse page = await _client.ListAsync(new ListRequest { Bucket = workload._bucket, Prefix = path + "/", Delimiter = "/", Limit = DirectoryCount },
                    cancellationToken: cancellationToken).ConfigureAwait(false);
                string[] children = [.. page.Entries.Where(e => e.Kind == EntryKind.Directory && _generations.ContainsKey(NameOf(e.Path))).Select(e => NameOf(e.Path))];
                foreach (Entry entry in page.Entries.Where(e => e.Kind == EntryKind.Directory && _paths.ContainsKey(NameOf(e.Path)) && NameOf(e.Path) != RootName))
                {
                    _paths[NameOf(entry.Path)] = entry.Path.TrimEnd('/');
                }

                done = call with { ReturnNanos = workload._clock.Now, Outcome = ChaosOutcome.Ok, Children = children };
            }
            catch (StrataException e)
            {
                done = Classify(call, e, workload._clock.Now);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                workload.Record(call with { Error = "the run was cancelled while the call was outstanding" });
                throw;
            }
            catch (OperationCanceledException e)
            {
                done = call with { Error = RegisterWorkload.AttemptDeadline(e) };
            }

            // A listing changes nothing: no new process after one without an answer.
            workload.Record(done);
            if (done.Refusal == NamespaceRefusal.NotFound && directory != RootName)
            {
                _stale.Add(directory);
            }

            return done;
        }

        private async Task RegisterAsync(int index, CancellationToken cancellationToken)
        {
            string key = RegisterKey(_random.Next(workload._options.Keys));
            double roll = _random.NextDouble();
            CasRegisterOp kind = roll < 0.4 ? CasRegisterOp.Read : roll < 0.6 ? CasRegisterOp.Write : _known.ContainsKey(key) ? CasRegisterOp.Cas : CasRegisterOp.Read;
            var call = new ChaosOperation
            {
                Index = index, Process = _process, Client = _number, Key = key, Kind = kind,
                Value = kind == CasRegisterOp.Read ? null : index + 1L,
                Expected = kind == CasRegisterOp.Cas ? _known[key].Value : null,
                ExpectedGeneration = kind == CasRegisterOp.Cas ? _known[key].Generation : null,
                ExpectedMetageneration = kind == CasRegisterOp.Cas ? _known[key].Metageneration : null,
                CallNanos = workload._clock.Now,
                Outcome = ChaosOutcome.Indeterminate,
            };
            ReadRoute route = kind == CasRegisterOp.Read ? workload._reads.Route(_number) : new ReadRoute(_client, null);
            call = call with { Node = route.Node };
            ChaosOperation done;
            try
            {
                Entry entry = kind switch
                {
                    CasRegisterOp.Read => await route.Client.StatAsync(workload._bucket, key, cancellationToken: cancellationToken).ConfigureAwait(false),
                    CasRegisterOp.Write => await _client.PutObjectAsync(workload._bucket, key, RegisterAttributes(call.Value!.Value), cancellationToken: cancellationToken).ConfigureAwait(false),
                    _ => await _client.PatchObjectAsync(new PatchObjectRequest
                    {
                        Bucket = workload._bucket,
                        Path = key,
                        SetMetadata = { ["v"] = call.Value!.Value.ToString(CultureInfo.InvariantCulture) },
                        Preconditions = new Preconditions { IfGenerationMatch = call.ExpectedGeneration!.Value, IfMetagenerationMatch = call.ExpectedMetageneration!.Value },
                    }, cancellationToken: cancellationToken).ConfigureAwait(false),
                };
                done = call with
                {
                    ReturnNanos = workload._clock.Now, Outcome = ChaosOutcome.Ok, Generation = entry.Generation, Metageneration = entry.Metageneration,
                    Found = kind == CasRegisterOp.Read ? true : null, ReadValue = kind == CasRegisterOp.Read ? RegisterValue(entry) : null,
                };
            }
            catch (StrataException e)
            {
                done = RegisterWorkload.Classify(call, e, workload._clock.Now) with { Metageneration = e.CurrentMetageneration };
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                workload._registers.Add(call with { Error = "the run was cancelled while the call was outstanding" });
                throw;
            }
            catch (OperationCanceledException e)
            {
                done = call with { Error = RegisterWorkload.AttemptDeadline(e) };
            }

            workload._registers.Add(done);
            switch (done)
            {
                case { Outcome: ChaosOutcome.Ok, Kind: CasRegisterOp.Read, Found: true }:
                    _known[key] = (done.ReadValue!.Value, done.Generation!.Value, done.Metageneration!.Value);
                    break;
                case { Outcome: ChaosOutcome.Ok, Kind: CasRegisterOp.Write or CasRegisterOp.Cas }:
                    _known[key] = (done.Value!.Value, done.Generation!.Value, done.Metageneration!.Value);
                    break;
                case { Outcome: ChaosOutcome.Indeterminate }:
                    _known.Remove(key);
                    _process += workload._clients.Count;
                    break;
                default:
                    _known.Remove(key);
                    break;
            }
        }

        private static ObjectAttributes RegisterAttributes(long value) => new()
        {
            Etag = string.Create(CultureInfo.InvariantCulture, $"v{value}"),
            ContentType = "application/octet-stream",
            Tier = Tier.Ssd,
            UserMetadata = { ["v"] = value.ToString(CultureInfo.InvariantCulture) },
        };

        private static string NameOf(string path)
        {
            string trimmed = path.TrimEnd('/');
            return trimmed[(trimmed.LastIndexOf('/') + 1)..];
        }
    }

    /// <summary>The outcome of a create, rename or listing that failed with <paramref name="e"/> at <paramref name="answered"/>.</summary>
    internal static NamespaceOperation Classify(NamespaceOperation call, StrataException e, long answered)
    {
        ArgumentNullException.ThrowIfNull(call);
        ArgumentNullException.ThrowIfNull(e);
        string error = $"{e.StatusCode}: {e.Detail}";
        if (!RegisterWorkload.IsDefiniteRefusal(e.StatusCode))
        {
            return call with { Outcome = ChaosOutcome.Indeterminate, Error = error, Attempts = e.Attempts };
        }

        string refusal = e.StatusCode switch
        {
            // The guard (operation 0) failing means a directory was not at the path the client believed.
            Grpc.Core.StatusCode.FailedPrecondition when call.Action == NamespaceAction.Create && e.FailedOperation == 1 => NamespaceRefusal.Exists,
            Grpc.Core.StatusCode.FailedPrecondition => NamespaceRefusal.Moved,
            Grpc.Core.StatusCode.AlreadyExists when call.Action == NamespaceAction.Create => NamespaceRefusal.Exists,
            Grpc.Core.StatusCode.NotFound => NamespaceRefusal.NotFound,
            Grpc.Core.StatusCode.InvalidArgument when e.Detail.Contains("own subtree", StringComparison.Ordinal) => NamespaceRefusal.OwnSubtree,
            Grpc.Core.StatusCode.InvalidArgument when e.Detail.Contains("are the same path", StringComparison.Ordinal) => NamespaceRefusal.SamePath,
            _ => NamespaceRefusal.Other,
        };
        return call with
        {
            ReturnNanos = answered,
            Outcome = ChaosOutcome.Failed,
            Refusal = refusal,
            Error = error,
            Generation = refusal == NamespaceRefusal.Exists ? e.CurrentGeneration : null,
        };
    }
}
