using System.Globalization;
using Google.Protobuf;
using Npgsql;
using NpgsqlTypes;
using Strata.Api.V1;

namespace Strata.Bench.Targets;

/// <summary>
/// PostgreSQL (Debian <c>postgresql</c>, the newest version under <c>/usr/lib/postgresql</c>) initialised into a
/// temporary directory and started on loopback, through Npgsql (a pool of up to <see cref="PoolSize"/> connections,
/// statements auto-prepared). One table <c>entries(bucket, path, generation, attributes)</c> keyed by (bucket, path)
/// in byte order (collation C); generations come from one sequence. A point read is a primary-key select, a
/// conditional update an <c>UPDATE ... WHERE generation = $n</c>, a create an <c>INSERT ... ON CONFLICT DO NOTHING</c>,
/// a listing a primary-key range scan with a limit (resumed with <c>path &gt; $last</c>), a rename one <c>UPDATE</c> of
/// the key, a directory rename one <c>UPDATE</c> rewriting the prefix of every key in the directory's range, a preload
/// batch one multi-row insert.
/// </summary>
/// <remarks>
/// Thread-safe. PostgreSQL refuses to run as root: as root the bench gives the directory to the <c>postgres</c> user
/// and runs <c>initdb</c> and the server through <c>setpriv</c> (which execs, so the server's process id is the
/// postmaster's); as any other user it runs them directly.
/// </remarks>
public sealed class PostgresPeer : BenchTarget, IBenchStore
{
    /// <summary>Most connections the pool opens (the server allows more).</summary>
    public const int PoolSize = 128;

    private const string Schema = """
        CREATE SEQUENCE generations;
        CREATE TABLE entries (
            bucket text COLLATE "C" NOT NULL,
            path text COLLATE "C" NOT NULL,
            generation bigint NOT NULL,
            attributes bytea NOT NULL,
            PRIMARY KEY (bucket, path));
        """;

    private readonly NpgsqlDataSource _source;
    private readonly PeerServer _server;
    private readonly string _directory;

    private PostgresPeer(NpgsqlDataSource source, PeerServer server, string directory, string version, int port)
    {
        _source = source;
        _server = server;
        _directory = directory;
        Description = string.Create(CultureInfo.InvariantCulture,
            $"PostgreSQL {version}, one server on 127.0.0.1:{port}, data in a temporary directory; Npgsql (pool of up to {PoolSize} connections, auto-prepared statements)");
    }

    /// <summary>The postmaster's process id (for tests: teardown must leave none of its processes).</summary>
    public int ProcessId => _server.ProcessId;

    public override string Name => "postgres";

    public override string Description { get; }

    public override string Durability =>
        "fsync on, synchronous_commit on, full_page_writes on (a commit returns after its WAL is flushed to disk); single server, no standby";

    /// <summary>
    /// Initialises a database cluster in a temporary directory, starts the server on a free loopback port, creates the
    /// table and returns once it answers. Throws <see cref="PeerUnavailableException"/> if PostgreSQL is not installed or does not start.
    /// </summary>
    public static async Task<PostgresPeer> StartAsync(CancellationToken cancellationToken = default)
    {
        string bin = FindBinaries()
            ?? throw new PeerUnavailableException("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/postgres): install the Debian package postgresql (scripts/install-prerequisites.sh does)");
        bool root = string.Equals(Environment.UserName, "root", StringComparison.Ordinal);
        string directory = Directory.CreateTempSubdirectory("strata-bench-postgres-").FullName;
        string data = Path.Combine(directory, "data");
        int port = LoopbackPorts.Reserve(1)[0];
        PeerServer? server = null;
        NpgsqlDataSource? source = null;
        try
        {
            if (root)
            {
                await PeerServer.RunToCompletionAsync("chown", ["postgres:postgres", directory], cancellationToken).ConfigureAwait(false);
            }

            // initdb's own fsyncs only protect the empty cluster: skipped; the server runs with full durability.
            (string initdb, IEnumerable<string> initArguments) = AsPostgres(root, Path.Combine(bin, "initdb"),
                ["-D", data, "-U", "strata", "--auth=trust", "--no-locale", "--encoding=UTF8", "--no-sync"]);
            await PeerServer.RunToCompletionAsync(initdb, initArguments, cancellationToken).ConfigureAwait(false);
            (string postgres, IEnumerable<string> arguments) = AsPostgres(root, Path.Combine(bin, "postgres"),
            [
                "-D", data,
                "-p", port.ToString(CultureInfo.InvariantCulture),
                "-k", directory,
                "-c", "listen_addresses=127.0.0.1",
                "-c", "fsync=on",
                "-c", "synchronous_commit=on",
                "-c", "full_page_writes=on",
                "-c", "max_connections=" + (PoolSize + 20).ToString(CultureInfo.InvariantCulture),
                "-c", "shared_buffers=256MB",
                "-c", "logging_collector=off",
            ]);
            server = PeerServer.Start(postgres, arguments, Path.Combine(directory, "postgres.log"), directory);
            var connection = new NpgsqlConnectionStringBuilder
            {
                Host = "127.0.0.1",
                Port = port,
                Username = "strata",
                Database = "postgres",
                MaxPoolSize = PoolSize,
                MaxAutoPrepare = 16,
                AutoPrepareMinUsages = 2,
                NoResetOnClose = true,
                Timeout = 5,
                CommandTimeout = 30,
            };
            source = NpgsqlDataSource.Create(connection);
            NpgsqlDataSource ready = source;
            await PeerServer.WaitUntilServingAsync("postgres", [server], TimeSpan.FromSeconds(60), async token =>
            {
                await using NpgsqlCommand probe = ready.CreateCommand("SELECT 1");
                await probe.ExecuteScalarAsync(token).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);
            await using (NpgsqlCommand create = source.CreateCommand(Schema))
            {
                await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            string version;
            await using (NpgsqlCommand show = source.CreateCommand("SHOW server_version"))
            {
                version = (string)(await show.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
            }

            return new PostgresPeer(source, server, directory, version, port);
        }
        catch
        {
            if (source is not null)
            {
                await source.DisposeAsync().ConfigureAwait(false);
            }

            if (server is not null)
            {
                await server.StopAsync(PeerServer.Signals.Interrupt).ConfigureAwait(false);
            }

            PeerServer.DeleteDirectory(directory);
            throw;
        }
    }

    public override Task CreateBucketAsync(string bucket, CancellationToken cancellationToken) => Task.CompletedTask;

    public override IBenchStore StoreOf(int worker) => this;

    public async Task<StoredEntry?> GetAsync(string bucket, string path, CancellationToken cancellationToken)
    {
        await using NpgsqlCommand command = Command("SELECT generation, attributes FROM entries WHERE bucket = $1 AND path = $2", bucket, path);
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        return new StoredEntry(reader.GetInt64(0), ObjectAttributes.Parser.ParseFrom(reader.GetFieldValue<byte[]>(1)));
    }

    public async Task<WriteOutcome> PutAsync(string bucket, string path, ObjectAttributes attributes, long? ifGenerationMatch, CancellationToken cancellationToken)
    {
        byte[] value = attributes.ToByteArray();
        string sql = ifGenerationMatch switch
        {
            null => """
                INSERT INTO entries VALUES ($1, $2, nextval('generations'), $3)
                ON CONFLICT (bucket, path) DO UPDATE SET generation = EXCLUDED.generation, attributes = EXCLUDED.attributes
                RETURNING generation
                """,
            0 => "INSERT INTO entries VALUES ($1, $2, nextval('generations'), $3) ON CONFLICT (bucket, path) DO NOTHING RETURNING generation",
            _ => "UPDATE entries SET generation = nextval('generations'), attributes = $3 WHERE bucket = $1 AND path = $2 AND generation = $4 RETURNING generation",
        };
        await using NpgsqlCommand command = Command(sql, bucket, path);
        command.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = value, NpgsqlDbType = NpgsqlDbType.Bytea });
        if (ifGenerationMatch is long expected and not 0)
        {
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = expected });
        }

        object? written = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        if (written is long generation)
        {
            return WriteOutcome.Written(generation);
        }

        // The precondition failed: say what is there now (read after the fact, as a client retrying its CAS would).
        StoredEntry? current = await GetAsync(bucket, path, cancellationToken).ConfigureAwait(false);
        return WriteOutcome.Conflict(current?.Generation ?? 0);
    }

    public async Task<IReadOnlyList<string>> ListAsync(string bucket, string directory, string? startAfter, int limit, CancellationToken cancellationToken)
    {
        // The directory's keys are the range [directory + "/", directory + "0") in collation C (an index range scan of
        // the primary key, which LIKE 'directory/%' would also become); a page resumes with path > the last one seen.
        await using NpgsqlCommand command = startAfter is null
            ? Command("SELECT path FROM entries WHERE bucket = $1 AND path >= $2 AND path < $3 ORDER BY path LIMIT $4", bucket, directory + "/", directory + "0")
            : Command("SELECT path FROM entries WHERE bucket = $1 AND path > $2 AND path < $3 ORDER BY path LIMIT $4", bucket, startAfter, directory + "0");
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        var names = new List<string>(limit);
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }

    public async Task<RenameOutcome> RenameAsync(string bucket, string source, string destination, CancellationToken cancellationToken)
    {
        await using NpgsqlCommand command = Command(
            "UPDATE entries SET path = $3, generation = nextval('generations') WHERE bucket = $1 AND path = $2", bucket, source, destination);
        try
        {
            int moved = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return moved == 1 ? RenameOutcome.Renamed : RenameOutcome.SourceMissing;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            return RenameOutcome.DestinationExists;
        }
    }

    public async Task<RenameOutcome> RenameDirectoryAsync(string bucket, string source, string destination, CancellationToken cancellationToken)
    {
        // One statement (atomic; its own transaction): rewrite the prefix of every key in the directory's range,
        // unless something is already under the destination (a directory cannot be renamed onto a non-empty one).
        await using NpgsqlCommand command = Command("""
            UPDATE entries SET path = $3 || substr(path, length($2) + 1), generation = nextval('generations')
            WHERE bucket = $1 AND path >= $2 AND path < $4
              AND NOT EXISTS (SELECT 1 FROM entries WHERE bucket = $1 AND path >= $3 AND path < $5)
            """, bucket, source + "/", destination + "/", source + "0", destination + "0");
        try
        {
            int moved = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            if (moved > 0)
            {
                return RenameOutcome.Renamed;
            }

            // Nothing moved: say why (only on this rare path, so the measured rename stays one statement).
            await using NpgsqlCommand taken = Command("SELECT EXISTS (SELECT 1 FROM entries WHERE bucket = $1 AND path >= $2 AND path < $3)", bucket, destination + "/", destination + "0");
            return await taken.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is true ? RenameOutcome.DestinationExists : RenameOutcome.SourceMissing;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            return RenameOutcome.DestinationExists;
        }
    }

    public async Task LoadAsync(string bucket, IReadOnlyList<(string Path, ObjectAttributes Attributes)> entries, CancellationToken cancellationToken)
    {
        await using NpgsqlCommand command = _source.CreateCommand("""
            INSERT INTO entries SELECT $1, p, nextval('generations'), a FROM unnest($2::text[], $3::bytea[]) AS t(p, a)
            ON CONFLICT (bucket, path) DO UPDATE SET generation = EXCLUDED.generation, attributes = EXCLUDED.attributes
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = bucket });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. entries.Select(e => e.Path)] });
        command.Parameters.Add(new NpgsqlParameter<byte[][]> { TypedValue = [.. entries.Select(e => e.Attributes.ToByteArray())] });
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override async ValueTask DisposeCoreAsync()
    {
        await _source.DisposeAsync().ConfigureAwait(false);
        await _server.StopAsync(PeerServer.Signals.Interrupt, TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        PeerServer.DeleteDirectory(_directory);
    }

    private NpgsqlCommand Command(string sql, params string[] texts)
    {
        NpgsqlCommand command = _source.CreateCommand(sql);
        foreach (string text in texts)
        {
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = text });
        }

        return command;
    }

    /// <summary>The bin directory of the newest PostgreSQL under /usr/lib/postgresql, or null.</summary>
    private static string? FindBinaries()
    {
        const string root = "/usr/lib/postgresql";
        if (!Directory.Exists(root))
        {
            return null;
        }

        return Directory.GetDirectories(root)
            .Select(d => (Directory: d, Version: int.TryParse(Path.GetFileName(d), NumberStyles.None, CultureInfo.InvariantCulture, out int v) ? v : -1))
            .Where(d => d.Version >= 0 && File.Exists(Path.Combine(d.Directory, "bin", "postgres")))
            .OrderByDescending(d => d.Version)
            .Select(d => Path.Combine(d.Directory, "bin"))
            .FirstOrDefault();
    }

    /// <summary>The command line that runs <paramref name="program"/> as the postgres user when the bench runs as root (setpriv execs: no wrapper process).</summary>
    private static (string Executable, IEnumerable<string> Arguments) AsPostgres(bool root, string program, IEnumerable<string> arguments)
    {
        if (!root)
        {
            return (program, arguments);
        }

        string setpriv = PeerServer.FindExecutable("setpriv", "/usr/bin/setpriv")
            ?? throw new PeerUnavailableException("running PostgreSQL as root needs setpriv (Debian package util-linux) to switch to the postgres user");
        return (setpriv, ["--reuid=postgres", "--regid=postgres", "--init-groups", "--", program, .. arguments]);
    }
}
