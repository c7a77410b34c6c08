using System.Globalization;
using System.Text;
using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using Strata.Api.V1;

namespace Strata.Bench.Targets;

/// <summary>
/// etcd 3.4 (Debian <c>etcd-server</c>), one or three members started on loopback in a temporary directory, through
/// the <c>dotnet-etcd</c> gRPC client. Entry (bucket, path) is key <c>bucket/path</c> holding the attributes'
/// protobuf bytes; its generation is the key's mod revision. A point read is a linearizable range get, a
/// conditional update a transaction comparing the mod revision (a create compares it with 0), a listing a prefix
/// range with a limit (keys only; a later page starts at the last key + a zero byte), a rename a read then a
/// transaction (source unchanged and destination absent: put the destination, delete the source), a directory rename
/// pages of keys moved by transactions of at most 128 operations (each atomic, the whole move not), a preload batch
/// one transaction of puts.
/// </summary>
/// <remarks>Thread-safe: the gRPC client multiplexes every worker over its HTTP/2 connections.</remarks>
public sealed class EtcdPeer : BenchTarget, IBenchStore
{
    private readonly EtcdClient _client;
    private readonly IReadOnlyList<PeerServer> _servers;
    private readonly string _directory;

    private EtcdPeer(EtcdClient client, IReadOnlyList<PeerServer> servers, string directory, string version, IReadOnlyList<string> endpoints)
    {
        _client = client;
        _servers = servers;
        _directory = directory;
        Description = string.Create(CultureInfo.InvariantCulture,
            $"etcd {version}, {servers.Count} member{(servers.Count == 1 ? "" : "s")} on loopback ({string.Join(", ", endpoints)}), data in a temporary directory; dotnet-etcd gRPC client");
        Durability = string.Create(CultureInfo.InvariantCulture,
            $"etcd defaults: write acknowledged after its Raft WAL entry is fsynced on {(servers.Count == 1 ? "the single member" : $"a majority of {servers.Count} members")}; reads linearizable (ReadIndex, not serializable)");
    }

    /// <summary>The server processes (for tests: teardown must leave none).</summary>
    public IReadOnlyList<int> ProcessIds => [.. _servers.Select(s => s.ProcessId)];

    public override string Name => _servers.Count == 1 ? "etcd" : "etcd-3";

    public override string Description { get; }

    public override string Durability { get; }

    /// <summary>
    /// Starts <paramref name="members"/> (1 or 3) etcd members on free loopback ports and returns once the cluster serves
    /// a linearizable read. Throws <see cref="PeerUnavailableException"/> if etcd is not installed or does not start.
    /// </summary>
    public static async Task<EtcdPeer> StartAsync(int members = 1, CancellationToken cancellationToken = default)
    {
        if (members is not (1 or 3))
        {
            throw new ArgumentOutOfRangeException(nameof(members), members, "etcd runs with 1 or 3 members here");
        }

        string etcd = PeerServer.FindExecutable("etcd", "/usr/bin/etcd")
            ?? throw new PeerUnavailableException("etcd is not installed: install the Debian package etcd-server (scripts/install-prerequisites.sh does)");
        string version = await VersionOfAsync(etcd, cancellationToken).ConfigureAwait(false);
        string directory = Directory.CreateTempSubdirectory("strata-bench-etcd-").FullName;
        var servers = new List<PeerServer>();
        EtcdClient? client = null;
        try
        {
            int[] ports = LoopbackPorts.Reserve(2 * members);
            int[] clientPorts = ports[..members];
            int[] peerPorts = ports[members..];
            string cluster = string.Join(',', Enumerable.Range(0, members).Select(i => $"m{i}=http://127.0.0.1:{peerPorts[i]}"));
            for (int i = 0; i < members; i++)
            {
                string clientUrl = $"http://127.0.0.1:{clientPorts[i]}";
                string peerUrl = $"http://127.0.0.1:{peerPorts[i]}";
                servers.Add(PeerServer.Start(etcd,
                [
                    "--name", $"m{i}",
                    "--data-dir", Path.Combine(directory, $"m{i}"),
                    "--listen-client-urls", clientUrl,
                    "--advertise-client-urls", clientUrl,
                    "--listen-peer-urls", peerUrl,
                    "--initial-advertise-peer-urls", peerUrl,
                    "--initial-cluster", cluster,
                    "--initial-cluster-state", "new",
                    "--initial-cluster-token", "strata-bench",
                    "--logger", "zap",
                    "--log-outputs", "stderr",
                ], Path.Combine(directory, $"m{i}.log"), directory));
            }

            string[] endpoints = [.. clientPorts.Select(p => $"http://127.0.0.1:{p}")];
            client = new EtcdClient(string.Join(',', endpoints));
            await WaitUntilServingAsync(client, servers, cancellationToken).ConfigureAwait(false);
            return new EtcdPeer(client, servers, directory, version, endpoints);
        }
        catch
        {
            client?.Dispose();
            await StopAllAsync(servers, directory).ConfigureAwait(false);
            throw;
        }
    }

    public override Task CreateBucketAsync(string bucket, CancellationToken cancellationToken) => Task.CompletedTask;

    public override IBenchStore StoreOf(int worker) => this;

    public async Task<StoredEntry?> GetAsync(string bucket, string path, CancellationToken cancellationToken)
    {
        RangeResponse response = await _client.GetAsync(new RangeRequest { Key = Key(bucket, path) }, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (response.Kvs.Count == 0)
        {
            return null;
        }

        Mvccpb.KeyValue found = response.Kvs[0];
        return new StoredEntry(found.ModRevision, ObjectAttributes.Parser.ParseFrom(found.Value));
    }

    public async Task<WriteOutcome> PutAsync(string bucket, string path, ObjectAttributes attributes, long? ifGenerationMatch, CancellationToken cancellationToken)
    {
        ByteString key = Key(bucket, path);
        var put = new PutRequest { Key = key, Value = attributes.ToByteString() };
        if (ifGenerationMatch is not long expected)
        {
            PutResponse written = await _client.PutAsync(put, cancellationToken: cancellationToken).ConfigureAwait(false);
            return WriteOutcome.Written(written.Header.Revision);
        }

        // A missing key compares as revision 0, so "mod revision == 0" is "does not exist".
        var transaction = new TxnRequest();
        transaction.Compare.Add(new Compare { Key = key, Target = Compare.Types.CompareTarget.Mod, Result = Compare.Types.CompareResult.Equal, ModRevision = expected });
        transaction.Success.Add(new RequestOp { RequestPut = put });
        transaction.Failure.Add(new RequestOp { RequestRange = new RangeRequest { Key = key, KeysOnly = true } });
        TxnResponse response = await _client.TransactionAsync(transaction, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (response.Succeeded)
        {
            return WriteOutcome.Written(response.Header.Revision);
        }

        var current = response.Responses[0].ResponseRange.Kvs;
        return WriteOutcome.Conflict(current.Count == 0 ? 0 : current[0].ModRevision);
    }

    public async Task<IReadOnlyList<string>> ListAsync(string bucket, string directory, string? startAfter, int limit, CancellationToken cancellationToken)
    {
        ByteString prefix = Key(bucket, directory + "/");

        // Resuming after a key is a range from the key's immediate successor (the key with a zero byte appended).
        ByteString from = startAfter is null ? prefix : ByteString.CopyFrom([.. Key(bucket, startAfter).Span, 0]);
        var request = new RangeRequest { Key = from, RangeEnd = PrefixEnd(prefix), Limit = limit, KeysOnly = true };
        RangeResponse response = await _client.GetAsync(request, cancellationToken: cancellationToken).ConfigureAwait(false);
        int skip = Encoding.UTF8.GetByteCount(bucket) + 1;
        return [.. response.Kvs.Select(kv => Encoding.UTF8.GetString(kv.Key.Span[skip..]))];
    }

    public async Task<RenameOutcome> RenameAsync(string bucket, string source, string destination, CancellationToken cancellationToken)
    {
        ByteString from = Key(bucket, source);
        ByteString to = Key(bucket, destination);

        // etcd has no rename: read the source, then move it in a transaction that holds only if the source did not
        // change meanwhile and the destination is absent. A source changed by someone else is read again.
        for (int attempt = 0; attempt < MaxRenameAttempts; attempt++)
        {
            RangeResponse read = await _client.GetAsync(new RangeRequest { Key = from }, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (read.Kvs.Count == 0)
            {
                return RenameOutcome.SourceMissing;
            }

            Mvccpb.KeyValue current = read.Kvs[0];
            var transaction = new TxnRequest();
            transaction.Compare.Add(new Compare { Key = from, Target = Compare.Types.CompareTarget.Mod, Result = Compare.Types.CompareResult.Equal, ModRevision = current.ModRevision });
            transaction.Compare.Add(new Compare { Key = to, Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Equal, CreateRevision = 0 });
            transaction.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = to, Value = current.Value } });
            transaction.Success.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = from } });
            transaction.Failure.Add(new RequestOp { RequestRange = new RangeRequest { Key = to, KeysOnly = true } });
            TxnResponse response = await _client.TransactionAsync(transaction, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (response.Succeeded)
            {
                return RenameOutcome.Renamed;
            }

            if (response.Responses[0].ResponseRange.Kvs.Count > 0)
            {
                return RenameOutcome.DestinationExists;
            }
        }

        throw new BenchOperationException("RenameRaced", $"the source of a rename kept changing over {MaxRenameAttempts} attempts");
    }

    public async Task<RenameOutcome> RenameDirectoryAsync(string bucket, string source, string destination, CancellationToken cancellationToken)
    {
        // etcd has no multi-key rename and refuses transactions of more than 128 operations, so an etcd user moves a
        // prefix in pages: read a page of keys with their values and mod revisions, then per chunk one transaction
        // that holds only if those keys did not change (put the new keys, delete the old). Each transaction is
        // atomic; the whole move is not (a reader in between sees part of the directory at each name).
        ByteString sourcePrefix = Key(bucket, source + "/");
        ByteString sourceEnd = PrefixEnd(sourcePrefix);
        ByteString destinationPrefix = Key(bucket, destination + "/");
        RangeResponse existing = await _client.GetAsync(
            new RangeRequest { Key = destinationPrefix, RangeEnd = PrefixEnd(destinationPrefix), Limit = 1, KeysOnly = true }, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        if (existing.Kvs.Count > 0)
        {
            return RenameOutcome.DestinationExists;
        }

        int sourceLength = sourcePrefix.Length;
        bool movedAny = false;
        while (true)
        {
            RangeResponse page = await _client.GetAsync(new RangeRequest { Key = sourcePrefix, RangeEnd = sourceEnd, Limit = RenamePageSize }, cancellationToken: cancellationToken)
                .ConfigureAwait(false);
            if (page.Kvs.Count == 0)
            {
                return movedAny ? RenameOutcome.Renamed : RenameOutcome.SourceMissing;
            }

            foreach (Mvccpb.KeyValue[] chunk in page.Kvs.Chunk(MaxTransactionPuts / 2))
            {
                var transaction = new TxnRequest();
                foreach (Mvccpb.KeyValue kv in chunk)
                {
                    transaction.Compare.Add(new Compare { Key = kv.Key, Target = Compare.Types.CompareTarget.Mod, Result = Compare.Types.CompareResult.Equal, ModRevision = kv.ModRevision });
                    ByteString moved = ByteString.CopyFrom([.. destinationPrefix.Span, .. kv.Key.Span[sourceLength..]]);
                    transaction.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = moved, Value = kv.Value } });
                    transaction.Success.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = kv.Key } });
                }

                TxnResponse response = await _client.TransactionAsync(transaction, cancellationToken: cancellationToken).ConfigureAwait(false);
                if (!response.Succeeded)
                {
                    throw new BenchOperationException("Conflict", "a key of the directory changed while it was being moved");
                }
            }

            movedAny = true;
        }
    }

    public async Task LoadAsync(string bucket, IReadOnlyList<(string Path, ObjectAttributes Attributes)> entries, CancellationToken cancellationToken)
    {
        // etcd refuses transactions of more than 128 operations (--max-txn-ops): one transaction per 100 entries.
        foreach ((string Path, ObjectAttributes Attributes)[] chunk in entries.Chunk(MaxTransactionPuts))
        {
            var transaction = new TxnRequest();
            foreach ((string path, ObjectAttributes attributes) in chunk)
            {
                transaction.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = Key(bucket, path), Value = attributes.ToByteString() } });
            }

            await _client.TransactionAsync(transaction, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
    }

    protected override async ValueTask DisposeCoreAsync()
    {
        _client.Dispose();
        await StopAllAsync(_servers, _directory).ConfigureAwait(false);
    }

    private const int MaxRenameAttempts = 8;

    /// <summary>Keys read per range while moving a directory (each page then moves in transactions of 50 keys).</summary>
    private const int RenamePageSize = 1_000;

    private const int MaxTransactionPuts = 100;

    private static ByteString Key(string bucket, string path) => ByteString.CopyFromUtf8(bucket + "/" + path);

    /// <summary>The smallest key greater than every key starting with <paramref name="prefix"/> (etcd's prefix range end).</summary>
    private static ByteString PrefixEnd(ByteString prefix)
    {
        byte[] end = prefix.ToByteArray();
        for (int i = end.Length - 1; i >= 0; i--)
        {
            if (end[i] < 0xff)
            {
                end[i]++;
                return ByteString.CopyFrom(end, 0, i + 1);
            }
        }

        return ByteString.CopyFrom(0);
    }

    private static async Task<string> VersionOfAsync(string etcd, CancellationToken cancellationToken)
    {
        var start = new System.Diagnostics.ProcessStartInfo(etcd, "--version") { RedirectStandardOutput = true, UseShellExecute = false };
        using System.Diagnostics.Process process = System.Diagnostics.Process.Start(start)
            ?? throw new PeerUnavailableException($"could not run {etcd} --version");
        string output = await process.StandardOutput.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        string? line = output.Split('\n').FirstOrDefault(l => l.StartsWith("etcd Version:", StringComparison.Ordinal));
        return line is null ? "(unknown version)" : line["etcd Version:".Length..].Trim();
    }

    private static Task WaitUntilServingAsync(EtcdClient client, IReadOnlyList<PeerServer> servers, CancellationToken cancellationToken) =>
        PeerServer.WaitUntilServingAsync("etcd", servers, StartTimeout, async token =>
        {
            await client.GetAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("strata-bench/ready") }, cancellationToken: token).ConfigureAwait(false);
        }, cancellationToken);

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private static async Task StopAllAsync(IEnumerable<PeerServer> servers, string directory)
    {
        await Task.WhenAll(servers.Select(s => s.StopAsync())).ConfigureAwait(false);
        PeerServer.DeleteDirectory(directory);
    }
}
