using CsCheck;
using Strata.Namespace.Commands;
using Strata.Storage;

namespace Strata.Namespace.Tests;

/// <summary>
/// Random operation sequences run against the real state machine (on RocksDB and on the in-memory engine)
/// and against <see cref="NamespaceModel"/>; every result is compared. CsCheck prints the seed of a failing
/// sequence (and shrinks it); replay with CsCheck_Seed=SEED, more runs with CsCheck_Iter=N.
/// </summary>
public sealed class ModelBasedTests
{
    private const ulong Base = 1_000_000;
    private static readonly string[] BucketNames = ["b-one", "b-two"];

    /// <summary>How a precondition is chosen; resolved against the model when the operation runs.</summary>
    public enum Pre { None, MustNotExist, CurrentGeneration, WrongGeneration, CurrentMetageneration, WrongMetageneration }

    public abstract record Op;

    public sealed record CreateBucketOp(int Bucket, bool Versioning) : Op;

    public sealed record DeleteBucketOp(int Bucket) : Op;

    public sealed record PutOp(int Bucket, string Path, ulong Size, Pre Pre) : Op;

    public sealed record DeleteOp(int Bucket, string Path, Pre Pre) : Op;

    public sealed record PatchOp(int Bucket, string Path, Pre Pre) : Op;

    public sealed record MkdirOp(int Bucket, string Path) : Op;

    public sealed record RmdirOp(int Bucket, string Path) : Op;

    public sealed record RenameOp(int Bucket, string Source, string Destination, bool Replace) : Op;

    public sealed record GuardOp(int Bucket, string Path, Pre Pre) : Op;

    public sealed record TransactionOp(Op[] Operations) : Op;

    public sealed record RetryOp(int Back) : Op;

    public sealed record StatOp(int Bucket, string Path, int AtCommand) : Op;

    public sealed record ListOp(int Bucket, string Directory, bool Recursive, int Limit, int AtCommand) : Op;

    public sealed record VersionsOp(int Bucket, string Path) : Op;

    private static Gen<string> Pick(params string[] choices) => Gen.Int[0, choices.Length - 1].Select(i => choices[i]);

    private static readonly Gen<int> GenBucket = Gen.Int[0, 1];
    private static readonly Gen<string> GenPath = Pick("a", "b", "c", "a-b")
        .Array[1, 3].Select(parts => string.Join('/', parts));
    private static readonly Gen<Pre> GenPre = Gen.Frequency(
        (6, Gen.Const(Pre.None)), (1, Gen.Const(Pre.MustNotExist)), (2, Gen.Const(Pre.CurrentGeneration)),
        (1, Gen.Const(Pre.WrongGeneration)), (1, Gen.Const(Pre.CurrentMetageneration)), (1, Gen.Const(Pre.WrongMetageneration)));

    private static readonly Gen<Op> GenMutation = Gen.Frequency(
        (8, Gen.Select(GenBucket, GenPath, Gen.ULong[0, 9], GenPre, (b, p, s, pre) => (Op)new PutOp(b, p, s, pre))),
        (4, Gen.Select(GenBucket, GenPath, GenPre, (b, p, pre) => (Op)new DeleteOp(b, p, pre))),
        (3, Gen.Select(GenBucket, GenPath, GenPre, (b, p, pre) => (Op)new PatchOp(b, p, pre))),
        (3, Gen.Select(GenBucket, GenPath, (b, p) => (Op)new MkdirOp(b, p))),
        (3, Gen.Select(GenBucket, GenPath, (b, p) => (Op)new RmdirOp(b, p))),
        (5, Gen.Select(GenBucket, GenPath, GenPath, Gen.Bool, (b, s, d, r) => (Op)new RenameOp(b, s, d, r))),
        (2, Gen.Select(GenBucket, GenPath, GenPre, (b, p, pre) => (Op)new GuardOp(b, p, pre))));

    private static readonly Gen<Op> GenOp = Gen.Frequency(
        (1, Gen.Select(GenBucket, Gen.Bool, (b, v) => (Op)new CreateBucketOp(b, v))),
        (1, GenBucket.Select(b => (Op)new DeleteBucketOp(b))),
        (20, GenMutation),
        (3, GenMutation.Array[1, 4].Select(ops => (Op)new TransactionOp(ops))),
        (2, Gen.Int[1, 5].Select(back => (Op)new RetryOp(back))),
        (5, Gen.Select(GenBucket, GenPath, Gen.Int[-1, 30], (b, p, at) => (Op)new StatOp(b, p, at))),
        (4, Gen.Select(GenBucket, Pick("", "a", "b", "a/b"), Gen.Bool, Gen.Int[1, 4], Gen.Int[-1, 30],
            (b, d, r, l, at) => (Op)new ListOp(b, d, r, l, at))),
        (2, Gen.Select(GenBucket, GenPath, (b, p) => (Op)new VersionsOp(b, p))));

    private static readonly Gen<Op[]> GenSequence = Gen.Select(GenBucket, Gen.Bool, GenOp.Array[1, 60],
        (b, v, ops) => ops.Prepend(new CreateBucketOp(b, v)).ToArray());

    [Fact]
    public void Random_sequences_agree_with_the_model_on_the_in_memory_engine() =>
        GenSequence.Sample(ops => Run(ops, new InMemoryKvEngine()), iter: Iterations(400));

    [Fact]
    public void Random_sequences_agree_with_the_model_on_rocksdb()
    {
        string root = Path.Combine(Path.GetTempPath(), "strata-model-" + Environment.ProcessId + "-" + Guid.NewGuid().ToString("N"));
        try
        {
            int run = 0;
            // Samples run on several threads: each needs a directory of its own (a plain run++ gave two the same one,
            // and the second open failed on RocksDB's lock).
            GenSequence.Sample(ops => Run(ops, RocksDbEngine.Open(Path.Combine(root, Interlocked.Increment(ref run).ToString()))), iter: Iterations(60));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>STRATA_MODEL_ITERATIONS multiplies the default number of sequences (long local runs).</summary>
    private static long Iterations(long ciDefault) =>
        long.TryParse(Environment.GetEnvironmentVariable("STRATA_MODEL_ITERATIONS"), out long factor) && factor > 0
            ? ciDefault * factor
            : ciDefault;

    private static void Run(Op[] ops, IKvEngine engine)
    {
        using IKvEngine owned = engine;
        using var real = new NamespaceHarness(engine);
        var model = new NamespaceModel();
        var history = new List<NamespaceModel> { model.Clone() }; // model state after each command
        var sent = new List<(Command Command, CommandResult Result)>();
        ulong sequence = 0;
        for (int step = 0; step < ops.Length; step++)
        {
            Op op = ops[step];
            string where = $"step {step}: {op}";
            ulong timestamp = Base + (ulong)history.Count;
            switch (op)
            {
                case RetryOp retry:
                    if (sent.Count == 0)
                    {
                        continue;
                    }

                    (Command first, CommandResult firstResult) = sent[Math.Max(0, sent.Count - retry.Back)];
                    CommandResult again = real.Run(first.Clone());
                    Assert.True(firstResult.Equals(again), $"{where}: a retry returned {again}, the first attempt {firstResult}");
                    history.Add(model.Clone());
                    break;
                case StatOp stat:
                    CompareStat(real, At(history, stat.AtCommand), stat, where);
                    break;
                case ListOp list:
                    CompareList(real, At(history, list.AtCommand), list, where);
                    break;
                case VersionsOp versions:
                    CompareVersions(real, model, versions, where);
                    break;
                default:
                    Command command = ToCommand(op, model);
                    command.ClientId = Google.Protobuf.ByteString.CopyFrom(new byte[16]);
                    command.Sequence = ++sequence;
                    (ResultCode expectedCode, int failedOperation, NamespaceModel next) = Apply(model, op, command, timestamp);
                    CommandResult result = real.Run(command.Clone());
                    Assert.True(expectedCode == result.Code, $"{where}: expected {expectedCode}, got {result.Code} ({result.Message})");
                    Assert.Equal(failedOperation, result.FailedOperation);
                    Assert.Equal(timestamp, real.Clock);
                    model = next;
                    history.Add(model.Clone());
                    sent.Add((command, result));
                    break;
            }
        }

        foreach (string bucket in BucketNames)
        {
            CompareList(real, model, new ListOp(Array.IndexOf(BucketNames, bucket), "", true, 1000, -1), "final state");
        }
    }

    private static (ulong At, NamespaceModel State) At(List<NamespaceModel> history, int atCommand) =>
        atCommand < 0 || atCommand >= history.Count
            ? (NamespaceReader.Latest, history[^1])
            : (Base + (ulong)atCommand, NamespaceModel.ReadView(history[atCommand], history[^1]));

    private static void CompareStat(NamespaceHarness real, (ulong At, NamespaceModel State) snapshot, StatOp op, string where)
    {
        (ResultCode code, NamespaceModel.Entry? expected) = ModelStat(snapshot.State, op);
        try
        {
            EntryInfo actual = real.Reader.Stat(BucketNames[op.Bucket], op.Path, snapshot.At);
            Assert.True(code == ResultCode.ResultOk, $"{where}: expected {code}, found {actual}");
            Assert.Equal(expected!.Kind, actual.Kind);
            Assert.Equal(expected.Generation, actual.Generation);
            Assert.Equal(expected.Metageneration, actual.Metageneration);
            if (expected.Kind == EntryKind.Object)
            {
                Assert.Equal(expected.Size, actual.Attributes.Size);
            }
        }
        catch (CommandRejectedException rejected)
        {
            Assert.True(code == rejected.Code, $"{where}: expected {code}, got {rejected.Code} ({rejected.Message})");
        }
    }

    private static (ResultCode, NamespaceModel.Entry?) ModelStat(NamespaceModel model, StatOp op)
    {
        try
        {
            NamespaceModel.Bucket bucket = model.RequireBucket(BucketNames[op.Bucket]);
            NamespaceModel.WalkParents(bucket, op.Path, create: false, 0);
            return bucket.Live.TryGetValue(op.Path, out NamespaceModel.Entry? entry)
                ? (ResultCode.ResultOk, entry)
                : (ResultCode.ResultNotFound, null);
        }
        catch (NamespaceModel.Rejected rejected)
        {
            return (rejected.Code, null);
        }
    }

    private static void CompareList(NamespaceHarness real, (ulong At, NamespaceModel State) snapshot, ListOp op, string where) =>
        CompareList(real, snapshot.State, op with { AtCommand = -1 }, where, snapshot.At);

    private static void CompareList(NamespaceHarness real, NamespaceModel model, ListOp op, string where, ulong at = NamespaceReader.Latest)
    {
        ResultCode expectedCode = ResultCode.ResultOk;
        List<string>? expected = null;
        try
        {
            NamespaceModel.Bucket bucket = model.RequireBucket(BucketNames[op.Bucket]);
            if (op.Directory.Length > 0)
            {
                NamespaceModel.WalkParents(bucket, op.Directory + "/x", create: false, 0);
            }

            expected = NamespaceModel.List(bucket, op.Directory, op.Recursive);
        }
        catch (NamespaceModel.Rejected rejected)
        {
            expectedCode = rejected.Code;
        }

        try
        {
            var actual = new List<string>();
            string? token = null;
            do
            {
                string prefix = op.Directory.Length == 0 ? "" : op.Directory + "/";
                ListPage page = real.Reader.List(new ListRequest(BucketNames[op.Bucket], prefix, op.Recursive, Limit: op.Limit, ContinuationToken: token, At: at));
                actual.AddRange(page.Entries.Select(e => e.Kind == EntryKind.Directory ? e.Path + "/" : e.Path));
                token = page.NextToken;
            }
            while (token is not null);
            Assert.True(expectedCode == ResultCode.ResultOk, $"{where}: expected {expectedCode}, listed [{string.Join(", ", actual)}]");
            Assert.True(expected!.SequenceEqual(actual), $"{where}: expected [{string.Join(", ", expected!)}], listed [{string.Join(", ", actual)}]");
        }
        catch (CommandRejectedException rejected)
        {
            Assert.True(expectedCode == rejected.Code, $"{where}: expected {expectedCode}, got {rejected.Code} ({rejected.Message})");
        }
    }

    private static void CompareVersions(NamespaceHarness real, NamespaceModel model, VersionsOp op, string where)
    {
        ResultCode expectedCode = ResultCode.ResultOk;
        var expected = new List<ulong>();
        try
        {
            NamespaceModel.Bucket bucket = model.RequireBucket(BucketNames[op.Bucket]);
            NamespaceModel.WalkParents(bucket, op.Path, create: false, 0);
            if (bucket.Live.TryGetValue(op.Path, out NamespaceModel.Entry? live))
            {
                expected.Add(live.Generation);
            }

            if (bucket.Noncurrent.TryGetValue(op.Path, out List<ulong>? versions))
            {
                expected.AddRange(versions.OrderDescending());
            }

            if (expected.Count == 0)
            {
                expectedCode = ResultCode.ResultNotFound;
            }
        }
        catch (NamespaceModel.Rejected rejected)
        {
            expectedCode = rejected.Code;
        }

        try
        {
            List<ulong> actual = real.Reader.ListVersions(BucketNames[op.Bucket], op.Path).Select(v => v.Generation).ToList();
            Assert.True(expectedCode == ResultCode.ResultOk, $"{where}: expected {expectedCode}, got versions {string.Join(",", actual)}");
            Assert.True(expected.SequenceEqual(actual), $"{where}: expected versions {string.Join(",", expected)}, got {string.Join(",", actual)}");
        }
        catch (CommandRejectedException rejected)
        {
            Assert.True(expectedCode == rejected.Code, $"{where}: expected {expectedCode}, got {rejected.Code} ({rejected.Message})");
        }
    }

    private static Preconditions? Resolve(NamespaceModel model, int bucket, string path, Pre pre)
    {
        NamespaceModel.Entry? live = model.Buckets.TryGetValue(BucketNames[bucket], out NamespaceModel.Bucket? b)
            ? b.Live.GetValueOrDefault(path)
            : null;
        return pre switch
        {
            Pre.None => null,
            Pre.MustNotExist => new Preconditions { IfGenerationMatch = 0 },
            Pre.CurrentGeneration => new Preconditions { IfGenerationMatch = live?.Generation ?? 77 },
            Pre.WrongGeneration => new Preconditions { IfGenerationMatch = (live?.Generation ?? 0) + 1 },
            Pre.CurrentMetageneration => new Preconditions { IfMetagenerationMatch = live?.Metageneration ?? 77 },
            _ => new Preconditions { IfMetagenerationMatch = (live?.Metageneration ?? 0) + 1 },
        };
    }

    private static Command ToCommand(Op op, NamespaceModel model)
    {
        var command = new Command();
        switch (op)
        {
            case CreateBucketOp create:
                command.CreateBucket = new CreateBucket { Name = BucketNames[create.Bucket], Versioning = create.Versioning };
                break;
            case DeleteBucketOp delete:
                command.DeleteBucket = new DeleteBucket { Name = BucketNames[delete.Bucket] };
                break;
            case TransactionOp transaction:
                command.Transaction = new Transaction();
                command.Transaction.Operations.AddRange(transaction.Operations.Select(o => ToOperation(o, model)));
                break;
            default:
                Operation operation = ToOperation(op, model);
                switch (operation.BodyCase)
                {
                    case Operation.BodyOneofCase.Put: command.Put = operation.Put; break;
                    case Operation.BodyOneofCase.Delete: command.Delete = operation.Delete; break;
                    case Operation.BodyOneofCase.Patch: command.Patch = operation.Patch; break;
                    case Operation.BodyOneofCase.MakeDirectory: command.MakeDirectory = operation.MakeDirectory; break;
                    case Operation.BodyOneofCase.RemoveDirectory: command.RemoveDirectory = operation.RemoveDirectory; break;
                    case Operation.BodyOneofCase.Rename: command.Rename = operation.Rename; break;
                    default: command.Transaction = new Transaction { Operations = { operation } }; break;
                }

                break;
        }

        return command;
    }

    private static Operation ToOperation(Op op, NamespaceModel model) => op switch
    {
        PutOp put => new Operation
        {
            Put = new PutObject
            {
                Bucket = BucketNames[put.Bucket],
                Path = put.Path,
                Attributes = new ObjectAttributes { Size = put.Size },
                Preconditions = Resolve(model, put.Bucket, put.Path, put.Pre),
            },
        },
        DeleteOp delete => new Operation
        {
            Delete = new DeleteObject { Bucket = BucketNames[delete.Bucket], Path = delete.Path, Preconditions = Resolve(model, delete.Bucket, delete.Path, delete.Pre) },
        },
        PatchOp patch => new Operation
        {
            Patch = new PatchObject
            {
                Bucket = BucketNames[patch.Bucket],
                Path = patch.Path,
                SetMetadata = { ["k"] = "v" },
                Preconditions = Resolve(model, patch.Bucket, patch.Path, patch.Pre),
            },
        },
        MkdirOp mkdir => new Operation { MakeDirectory = new MakeDirectory { Bucket = BucketNames[mkdir.Bucket], Path = mkdir.Path } },
        RmdirOp rmdir => new Operation { RemoveDirectory = new RemoveDirectory { Bucket = BucketNames[rmdir.Bucket], Path = rmdir.Path } },
        RenameOp rename => new Operation
        {
            Rename = new Rename { Bucket = BucketNames[rename.Bucket], Source = rename.Source, Destination = rename.Destination, ReplaceDestination = rename.Replace },
        },
        GuardOp guard => new Operation
        {
            Guard = new Guard { Bucket = BucketNames[guard.Bucket], Path = guard.Path, Preconditions = Resolve(model, guard.Bucket, guard.Path, guard.Pre) },
        },
        _ => throw new InvalidOperationException($"not an operation: {op}"),
    };

    /// <summary>Applies a command to a copy of the model: the copy on success, the original on refusal.</summary>
    private static (ResultCode Code, int FailedOperation, NamespaceModel Next) Apply(NamespaceModel model, Op op, Command command, ulong timestamp)
    {
        NamespaceModel next = model.Clone();
        try
        {
            switch (op)
            {
                case CreateBucketOp create:
                    if (!next.Buckets.TryAdd(BucketNames[create.Bucket], new NamespaceModel.Bucket { Versioning = create.Versioning, Created = timestamp }))
                    {
                        throw new NamespaceModel.Rejected(ResultCode.ResultAlreadyExists);
                    }

                    break;
                case DeleteBucketOp delete:
                    if (NamespaceModel.HasChildren(next.RequireBucket(BucketNames[delete.Bucket]), ""))
                    {
                        throw new NamespaceModel.Rejected(ResultCode.ResultNotEmpty);
                    }

                    next.Buckets.Remove(BucketNames[delete.Bucket]);
                    break;
                case TransactionOp transaction:
                    for (int i = 0; i < transaction.Operations.Length; i++)
                    {
                        try
                        {
                            ApplyOperation(next, command.Transaction.Operations[i], timestamp);
                        }
                        catch (NamespaceModel.Rejected rejected)
                        {
                            return (rejected.Code, i, model);
                        }
                    }

                    break;
                default:
                    ApplyOperation(next, ToOperation(op, model), timestamp);
                    break;
            }
        }
        catch (NamespaceModel.Rejected rejected)
        {
            return (rejected.Code, op is GuardOp ? 0 : -1, model);
        }

        return (ResultCode.ResultOk, -1, next);
    }

    private static void ApplyOperation(NamespaceModel model, Operation operation, ulong timestamp)
    {
        switch (operation.BodyCase)
        {
            case Operation.BodyOneofCase.Put:
            {
                PutObject put = operation.Put;
                NamespaceModel.Bucket bucket = model.RequireBucket(put.Bucket);
                NamespaceModel.WalkParents(bucket, put.Path, create: true, timestamp);
                NamespaceModel.Entry? live = bucket.Live.GetValueOrDefault(put.Path);
                if (live?.Kind == EntryKind.Directory)
                {
                    throw new NamespaceModel.Rejected(ResultCode.ResultAlreadyExists);
                }

                NamespaceModel.Check(live, put.Preconditions);
                NamespaceModel.KeepNoncurrent(bucket, put.Path);
                bucket.Live[put.Path] = new NamespaceModel.Entry(EntryKind.Object, timestamp, 1, put.Attributes.Size);
                break;
            }

            case Operation.BodyOneofCase.Delete:
            {
                DeleteObject delete = operation.Delete;
                NamespaceModel.Bucket bucket = model.RequireBucket(delete.Bucket);
                NamespaceModel.Entry live = RequireObject(bucket, delete.Path);
                NamespaceModel.Check(live, delete.Preconditions);
                NamespaceModel.KeepNoncurrent(bucket, delete.Path);
                bucket.Live.Remove(delete.Path);
                break;
            }

            case Operation.BodyOneofCase.Patch:
            {
                PatchObject patch = operation.Patch;
                NamespaceModel.Bucket bucket = model.RequireBucket(patch.Bucket);
                NamespaceModel.Entry live = RequireObject(bucket, patch.Path);
                NamespaceModel.Check(live, patch.Preconditions);
                bucket.Live[patch.Path] = live with { Metageneration = live.Metageneration + 1 };
                break;
            }

            case Operation.BodyOneofCase.MakeDirectory:
            {
                MakeDirectory make = operation.MakeDirectory;
                NamespaceModel.Bucket bucket = model.RequireBucket(make.Bucket);
                NamespaceModel.WalkParents(bucket, make.Path, create: true, timestamp);
                if (bucket.Live.ContainsKey(make.Path))
                {
                    throw new NamespaceModel.Rejected(ResultCode.ResultAlreadyExists);
                }

                bucket.Live[make.Path] = new NamespaceModel.Entry(EntryKind.Directory, timestamp, 1, 0);
                break;
            }

            case Operation.BodyOneofCase.RemoveDirectory:
            {
                RemoveDirectory remove = operation.RemoveDirectory;
                NamespaceModel.Bucket bucket = model.RequireBucket(remove.Bucket);
                NamespaceModel.WalkParents(bucket, remove.Path, create: false, 0);
                NamespaceModel.Entry live = bucket.Live.GetValueOrDefault(remove.Path)
                    ?? throw new NamespaceModel.Rejected(ResultCode.ResultNotFound);
                if (live.Kind != EntryKind.Directory)
                {
                    throw new NamespaceModel.Rejected(ResultCode.ResultFailedPrecondition);
                }

                if (NamespaceModel.HasChildren(bucket, remove.Path))
                {
                    throw new NamespaceModel.Rejected(ResultCode.ResultNotEmpty);
                }

                bucket.Live.Remove(remove.Path);
                break;
            }

            case Operation.BodyOneofCase.Rename:
            {
                Rename rename = operation.Rename;
                NamespaceModel.Bucket bucket = model.RequireBucket(rename.Bucket);
                if (rename.Source == rename.Destination)
                {
                    throw new NamespaceModel.Rejected(ResultCode.ResultInvalidArgument);
                }

                NamespaceModel.WalkParents(bucket, rename.Source, create: false, 0);
                NamespaceModel.Entry moving = bucket.Live.GetValueOrDefault(rename.Source)
                    ?? throw new NamespaceModel.Rejected(ResultCode.ResultNotFound);
                if (moving.Kind == EntryKind.Directory && rename.Destination.StartsWith(rename.Source + "/", StringComparison.Ordinal))
                {
                    throw new NamespaceModel.Rejected(ResultCode.ResultInvalidArgument);
                }

                NamespaceModel.WalkParents(bucket, rename.Destination, create: true, timestamp);
                if (bucket.Live.TryGetValue(rename.Destination, out NamespaceModel.Entry? occupant))
                {
                    if (!(rename.ReplaceDestination && occupant.Kind == EntryKind.Object && moving.Kind == EntryKind.Object))
                    {
                        throw new NamespaceModel.Rejected(ResultCode.ResultAlreadyExists);
                    }

                    NamespaceModel.KeepNoncurrent(bucket, rename.Destination);
                }

                NamespaceModel.Move(bucket, rename.Source, rename.Destination, moving with { Metageneration = moving.Metageneration + 1 });
                break;
            }

            case Operation.BodyOneofCase.Guard:
            {
                Guard guard = operation.Guard;
                NamespaceModel.Bucket bucket = model.RequireBucket(guard.Bucket);
                NamespaceModel.Entry? guarded;
                try
                {
                    NamespaceModel.WalkParents(bucket, guard.Path, create: false, 0);
                    guarded = bucket.Live.GetValueOrDefault(guard.Path);
                }
                catch (NamespaceModel.Rejected)
                {
                    guarded = null; // a missing parent (or an object in the way) means the entry does not exist
                }

                NamespaceModel.Check(guarded, guard.Preconditions);
                break;
            }
        }
    }

    private static NamespaceModel.Entry RequireObject(NamespaceModel.Bucket bucket, string path)
    {
        NamespaceModel.WalkParents(bucket, path, create: false, 0);
        NamespaceModel.Entry live = bucket.Live.GetValueOrDefault(path) ?? throw new NamespaceModel.Rejected(ResultCode.ResultNotFound);
        return live.Kind == EntryKind.Object ? live : throw new NamespaceModel.Rejected(ResultCode.ResultFailedPrecondition);
    }
}
