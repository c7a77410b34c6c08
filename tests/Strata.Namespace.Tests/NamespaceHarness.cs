using Google.Protobuf;
using Strata.Namespace.Commands;
using Strata.Storage;

namespace Strata.Namespace.Tests;

/// <summary>
/// A state machine over an engine with a hand-driven log: every command gets the next index, a timestamp
/// one tick after the previous one (or its own) and a fixed ID seed, so tests know generations in advance.
/// </summary>
internal sealed class NamespaceHarness : IDisposable
{
    private readonly bool _ownsEngine;
    private ulong _index;
    private ulong _idSeed = 42;

    public NamespaceHarness(IKvEngine? engine = null)
    {
        _ownsEngine = engine is null;
        Engine = engine ?? new InMemoryKvEngine();
        Machine = new NamespaceStateMachine(Engine, shardId: 1);
        Reader = new NamespaceReader(Engine);
        _index = Machine.AppliedIndex;
        Clock = Math.Max(Machine.LastTimestamp, 1_000_000);
    }

    public IKvEngine Engine { get; }

    public NamespaceStateMachine Machine { get; private set; }

    public NamespaceReader Reader { get; }

    /// <summary>The timestamp of the last command; the next one runs at Clock + 1.</summary>
    public ulong Clock { get; private set; }

    public CommandResult Run(Command command)
    {
        if (command.Timestamp == 0)
        {
            command.Timestamp = Clock + 1;
        }

        command.IdSeed = _idSeed++;
        CommandResult result = Machine.Apply([new LoggedCommand(++_index, command)], sync: false)[0]!;
        Clock = Machine.LastTimestamp;
        return result;
    }

    public void Reopen() => Machine = new NamespaceStateMachine(Engine, shardId: 1);

    public CommandResult CreateBucket(string name, bool versioning = false) =>
        Run(new Command { CreateBucket = new CreateBucket { Name = name, Versioning = versioning } });

    public CommandResult Put(string bucket, string path, ulong size = 1, Preconditions? preconditions = null, string etag = "") =>
        Run(new Command
        {
            Put = new PutObject
            {
                Bucket = bucket,
                Path = path,
                Attributes = new ObjectAttributes { Size = size, Etag = etag, Tier = Tier.Ssd, Lifecycle = LifecycleState.LifecycleHot },
                Preconditions = preconditions,
            },
        });

    public CommandResult Delete(string bucket, string path, Preconditions? preconditions = null) =>
        Run(new Command { Delete = new DeleteObject { Bucket = bucket, Path = path, Preconditions = preconditions } });

    public CommandResult Mkdir(string bucket, string path) =>
        Run(new Command { MakeDirectory = new MakeDirectory { Bucket = bucket, Path = path } });

    public CommandResult Rmdir(string bucket, string path) =>
        Run(new Command { RemoveDirectory = new RemoveDirectory { Bucket = bucket, Path = path } });

    public CommandResult Rename(string bucket, string source, string destination, bool replace = false) =>
        Run(new Command { Rename = new Rename { Bucket = bucket, Source = source, Destination = destination, ReplaceDestination = replace } });

    public static Command AsClient(Command command, byte clientByte, ulong sequence)
    {
        var id = new byte[16];
        id[0] = clientByte;
        command.ClientId = ByteString.CopyFrom(id);
        command.Sequence = sequence;
        return command;
    }

    public List<string> ListPaths(string bucket, string prefix = "", bool recursive = false, int limit = 1000)
    {
        var paths = new List<string>();
        string? token = null;
        do
        {
            ListPage page = Reader.List(new ListRequest(bucket, prefix, recursive, Limit: limit, ContinuationToken: token));
            paths.AddRange(page.Entries.Select(e => e.Kind == EntryKind.Directory ? e.Path + "/" : e.Path));
            token = page.NextToken;
        }
        while (token is not null);
        return paths;
    }

    public void Dispose()
    {
        if (_ownsEngine)
        {
            Engine.Dispose();
        }
    }
}
