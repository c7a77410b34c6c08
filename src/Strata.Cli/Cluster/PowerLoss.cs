using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;

namespace Strata.Cli.Cluster;

/// <summary>
/// Simulated power loss for a node process: data it did not fsync before it died is really lost. A node is started
/// under <c>tools/powerloss/powerloss.c</c> (an <c>LD_PRELOAD</c> library, see its README) that keeps, in a shadow
/// directory, the image its data directory would have on disk after a power cut: file bytes as of their last
/// fsync/fdatasync, names as of their directory's last fsync. A power loss is SIGKILL, then <see cref="Apply"/>: the data
/// directory is replaced by that image.
/// </summary>
/// <remarks>
/// The caller's duties, in order: <see cref="Arm"/> a node's start description (it needs gcc the first time, to build
/// the library from the source embedded in this assembly); start it; kill it (SIGKILL, or its own crash point); wait
/// until it has exited; <see cref="Apply"/>; start it again (armed again: every start takes its data directory as
/// durable). Linux x86-64/arm64 with glibc only. Not thread-safe for one data directory; different directories are
/// independent.
/// </remarks>
internal static class PowerLoss
{
    /// <summary>The watched directory (the node's data directory).</summary>
    public const string DirectoryVariable = "STRATA_POWERLOSS_DIR";

    /// <summary>Where the library keeps the durable image (must not be inside the watched directory).</summary>
    public const string ShadowVariable = "STRATA_POWERLOSS_SHADOW";

    /// <summary>
    /// <c>N</c>: the N-th fsync or fdatasync of a watched file fails with EIO and its pages count as clean (they never
    /// reach the durable image); read by the library at the process's start.
    /// </summary>
    public const string FailSyncVariable = "STRATA_POWERLOSS_FAIL_SYNC";

    private static readonly Lock Building = new();

    /// <summary>The shadow directory used for <paramref name="dataDirectory"/>: a sibling named after it.</summary>
    public static string ShadowOf(string dataDirectory) => Path.GetFullPath(dataDirectory).TrimEnd('/') + ".powerloss";

    /// <summary>
    /// Makes <paramref name="info"/> start its process under the power-loss library watching
    /// <paramref name="dataDirectory"/>. Any shadow left from an earlier run is removed: the process takes the directory
    /// as it finds it as durable.
    /// </summary>
    public static void Arm(ProcessStartInfo info, string dataDirectory)
    {
        ArgumentNullException.ThrowIfNull(info);
        string library = Library();
        string shadow = ShadowOf(dataDirectory);
        if (Directory.Exists(shadow))
        {
            Directory.Delete(shadow, recursive: true);
        }

        string? preload = info.Environment.TryGetValue("LD_PRELOAD", out string? existing) ? existing : null;
        info.Environment["LD_PRELOAD"] = string.IsNullOrEmpty(preload) ? library : library + ":" + preload;
        info.Environment[DirectoryVariable] = Path.GetFullPath(dataDirectory);
        info.Environment[ShadowVariable] = shadow;
    }

    /// <summary>
    /// The power cut, after the armed process <paramref name="processId"/> has died: compares the live data directory
    /// with the durable image, replaces the directory with the image, removes the shadow, and says what was lost.
    /// </summary>
    /// <param name="dataDirectory">The watched directory.</param>
    /// <param name="processId">The process that ran under the library over it (and is dead now).</param>
    /// <param name="torn">Null: every unsynced byte is lost (the strict cut). Otherwise a torn cut, drawn from it: of a
    /// file that was only appended to since its last sync (its durable bytes are a prefix of its live bytes), half the
    /// time a random prefix of the unsynced tail reached the disk too, possibly ending inside a record — what a disk
    /// that wrote back in order before the cut leaves.</param>
    /// <param name="outOfOrder">With <paramref name="torn"/>: the torn tail is not a prefix but a seeded half of its 4 KiB
    /// pages, the others left as zeros up to the last page kept — what a disk that persisted unsynced pages out of
    /// order (a volatile write cache, preallocated extents converted late) may leave.</param>
    /// <exception cref="InvalidOperationException">There is no image kept by that process (the library did not load
    /// or was not armed): a power loss cannot be simulated, and a test must not pass as if it had been.</exception>
    public static PowerLossOutcome Apply(string dataDirectory, int processId, Random? torn = null, bool outOfOrder = false)
    {
        string data = Path.GetFullPath(dataDirectory);
        string shadow = ShadowOf(data);
        string tree = Path.Combine(shadow, "tree");
        string owner = Path.Combine(shadow, "owner");
        if (!File.Exists(owner) || !Directory.Exists(tree))
        {
            throw new InvalidOperationException($"no durable image in {shadow}: the node did not run under the power-loss library");
        }

        string kept = File.ReadAllText(owner).Trim();
        if (kept != processId.ToString(CultureInfo.InvariantCulture))
        {
            throw new InvalidOperationException($"the durable image in {shadow} was kept by process {kept}, not by {processId}");
        }

        PowerLossOutcome outcome = Compare(data, tree);
        if (torn is not null)
        {
            (long tornKept, long tornKeptOfWal, int holes) = Tear(data, tree, outcome, torn, outOfOrder);
            outcome = outcome with { TornBytesKept = tornKept, TornWriteAheadLogBytesKept = tornKeptOfWal, WriteAheadLogHoles = holes };
        }

        if (Directory.Exists(data))
        {
            Directory.Delete(data, recursive: true);
        }

        CopyTree(tree, data);
        Directory.Delete(shadow, recursive: true);
        return outcome;
    }

    /// <summary>Appends to images a seeded prefix of their files' unsynced tails (see <see cref="Apply"/>); returns the
    /// bytes kept that way, and how many of them of RocksDB's write-ahead logs.</summary>
    private static (long Kept, long KeptOfWal, int WalHoles) Tear(string data, string tree, PowerLossOutcome outcome, Random torn, bool outOfOrder)
    {
        long kept = 0;
        long keptOfWal = 0;
        int walHoles = 0;
        foreach (PowerLossFile file in outcome.Files)
        {
            if (file is not { LiveBytes: long live, DurableBytes: long durable } || live <= durable || torn.Next(2) == 0)
            {
                continue;
            }

            string liveFile = Path.Combine(data, file.Name);
            string image = Path.Combine(tree, file.Name);
            if (!IsPrefix(image, liveFile, durable))
            {
                continue; // rewritten in place, not only appended: no tail to tear
            }

            using FileStream from = File.OpenRead(liveFile);
            using var to = new FileStream(image, FileMode.Open, FileAccess.Write);
            long keep = 0;
            if (outOfOrder)
            {
                const int Page = 4096;
                byte[] page = new byte[Page];
                bool dropped = false;
                for (long start = durable; start < live; start = ((start / Page) + 1) * Page)
                {
                    long end = Math.Min(live, ((start / Page) + 1) * Page);
                    if (torn.Next(2) == 0)
                    {
                        dropped = true;
                        continue; // this page did not reach the disk: zeros if a later one did
                    }

                    if (dropped && PowerLossOutcome.IsWriteAheadLog(file.Name))
                    {
                        walHoles++;
                        dropped = false;
                    }

                    from.Seek(start, SeekOrigin.Begin);
                    from.ReadExactly(page, 0, (int)(end - start));
                    to.Seek(start, SeekOrigin.Begin);
                    to.Write(page, 0, (int)(end - start));
                    to.SetLength(Math.Max(to.Length, end));
                    keep += end - start;
                }
            }
            else
            {
                keep = torn.NextInt64(1, live - durable + 1);
                from.Seek(durable, SeekOrigin.Begin);
                to.Seek(durable, SeekOrigin.Begin);
                byte[] buffer = new byte[1 << 16];
                for (long left = keep; left > 0;)
                {
                    int n = from.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
                    to.Write(buffer, 0, n);
                    left -= n;
                }
            }

            kept += keep;
            keptOfWal += PowerLossOutcome.IsWriteAheadLog(file.Name) ? keep : 0;
        }

        return (kept, keptOfWal, walHoles);
    }

    private static bool IsPrefix(string shorter, string longer, long length)
    {
        using FileStream first = File.OpenRead(shorter);
        using FileStream second = File.OpenRead(longer);
        byte[] x = new byte[1 << 16];
        byte[] y = new byte[1 << 16];
        for (long left = length; left > 0;)
        {
            int want = (int)Math.Min(x.Length, left);
            int n = first.ReadAtLeast(x.AsSpan(0, want), want, throwOnEndOfStream: false);
            int m = second.ReadAtLeast(y.AsSpan(0, want), want, throwOnEndOfStream: false);
            if (n != want || m != want || !x.AsSpan(0, n).SequenceEqual(y.AsSpan(0, m)))
            {
                return false;
            }

            left -= n;
        }

        return true;
    }

    /// <summary>What a power loss of the live directory <paramref name="data"/> to the image <paramref name="tree"/> drops.</summary>
    private static PowerLossOutcome Compare(string data, string tree)
    {
        var files = new List<PowerLossFile>();
        if (Directory.Exists(data))
        {
            foreach (string live in Directory.EnumerateFiles(data, "*", SearchOption.AllDirectories))
            {
                string relative = Path.GetRelativePath(data, live);
                string image = Path.Combine(tree, relative);
                long liveBytes = new FileInfo(live).Length;
                if (!File.Exists(image))
                {
                    files.Add(new PowerLossFile(relative, liveBytes, null, Changed: true));
                    continue;
                }

                long durableBytes = new FileInfo(image).Length;
                files.Add(new PowerLossFile(relative, liveBytes, durableBytes, Changed: durableBytes != liveBytes || !SameBytes(live, image)));
            }
        }

        foreach (string image in Directory.EnumerateFiles(tree, "*", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(tree, image);
            if (!File.Exists(Path.Combine(data, relative)))
            {
                files.Add(new PowerLossFile(relative, null, new FileInfo(image).Length, Changed: true));
            }
        }

        return new PowerLossOutcome([.. files.OrderBy(f => f.Name, StringComparer.Ordinal)]);
    }

    private static bool SameBytes(string a, string b)
    {
        using FileStream first = File.OpenRead(a);
        using FileStream second = File.OpenRead(b);
        byte[] x = new byte[1 << 16];
        byte[] y = new byte[1 << 16];
        while (true)
        {
            int n = first.ReadAtLeast(x, x.Length, throwOnEndOfStream: false);
            int m = second.ReadAtLeast(y, y.Length, throwOnEndOfStream: false);
            if (n != m || !x.AsSpan(0, n).SequenceEqual(y.AsSpan(0, m)))
            {
                return false;
            }

            if (n == 0)
            {
                return true;
            }
        }
    }

    private static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string directory in Directory.EnumerateDirectories(from))
        {
            CopyTree(directory, Path.Combine(to, Path.GetFileName(directory)));
        }

        foreach (string file in Directory.EnumerateFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
    }

    /// <summary>The power-loss library, built on first use with gcc (cached by source hash).</summary>
    public static string Library() => Build("powerloss.c", "powerloss", shared: true);

    /// <summary>The probe program of the library's own tests (<c>tools/powerloss/probe.c</c>), built on first use.</summary>
    public static string Probe() => Build("probe.c", "probe", shared: false);

    /// <summary>
    /// Where built artifacts go: <c>$STRATA_ARTIFACTS/powerloss</c> when that variable is set (the build's output
    /// folder), else a folder under the temporary directory.
    /// </summary>
    private static string BuildDirectory() =>
        Environment.GetEnvironmentVariable("STRATA_ARTIFACTS") is { Length: > 0 } artifacts
            ? Path.Combine(artifacts, "powerloss")
            : Path.Combine(Path.GetTempPath(), "strata-powerloss");

    private static string Build(string source, string name, bool shared)
    {
        string text = Source(source);
        string hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16];
        string directory = BuildDirectory();
        string output = Path.Combine(directory, $"{name}-{hash}{(shared ? ".so" : "")}");
        lock (Building)
        {
            if (File.Exists(output))
            {
                return output;
            }

            Directory.CreateDirectory(directory);
            string pid = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
            string sourcePath = Path.Combine(directory, $"{name}-{hash}.{pid}.c");
            string building = output + "." + pid + ".tmp";
            File.WriteAllText(sourcePath, text);
            var info = new ProcessStartInfo("gcc")
            {
                UseShellExecute = false,
                RedirectStandardError = true,
                RedirectStandardOutput = true,
            };
            string[] arguments = shared
                ? ["-shared", "-fPIC", "-O2", "-Wall", "-Wextra", "-Werror", "-Wno-format-truncation", "-o", building, sourcePath, "-ldl", "-lpthread"]
                : ["-O2", "-Wall", "-Wextra", "-Werror", "-o", building, sourcePath, "-lpthread"];
            foreach (string argument in arguments)
            {
                info.ArgumentList.Add(argument);
            }

            Process gcc;
            try
            {
                gcc = Process.Start(info) ?? throw new InvalidOperationException("gcc did not start");
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                throw new InvalidOperationException("the power-loss mode builds tools/powerloss with gcc, which is not installed (Debian packages gcc, libc6-dev; scripts/install-prerequisites.sh installs them)", e);
            }

            using (gcc)
            {
                Task<string> errors = gcc.StandardError.ReadToEndAsync();
                Task<string> output2 = gcc.StandardOutput.ReadToEndAsync();
                gcc.WaitForExit();
                if (gcc.ExitCode != 0)
                {
                    throw new InvalidOperationException($"gcc could not build {source}: {errors.Result}{output2.Result}");
                }
            }

            File.Move(building, output, overwrite: true);
            File.Delete(sourcePath);
            return output;
        }
    }

    private static string Source(string name)
    {
        using Stream stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("powerloss/" + name)
            ?? throw new InvalidOperationException($"tools/powerloss/{name} is not embedded in {Assembly.GetExecutingAssembly().GetName().Name}");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}

/// <summary>One file of a simulated power loss: its size before (null: it had no live name) and after (null: no durable
/// name), and whether its bytes changed.</summary>
internal sealed record PowerLossFile(string Name, long? LiveBytes, long? DurableBytes, bool Changed)
{
    /// <summary>Bytes the live file had beyond its durable image (all of them when its name was not durable).</summary>
    public long BytesLost => Math.Max(0, (LiveBytes ?? 0) - (DurableBytes ?? 0));
}

/// <summary>What one simulated power loss dropped, file by file (only files that differ count as changed).</summary>
internal sealed record PowerLossOutcome(IReadOnlyList<PowerLossFile> Files)
{
    /// <summary>Of the bytes lost, those a torn cut kept after all (unsynced tails that reached the disk); 0 for a strict cut.</summary>
    public long TornBytesKept { get; init; }

    /// <summary>Of <see cref="TornBytesKept"/>, those of RocksDB's write-ahead logs.</summary>
    public long TornWriteAheadLogBytesKept { get; init; }

    /// <summary>Out-of-order torn cuts: runs of zeroed pages followed by a kept page, in write-ahead logs.</summary>
    public int WriteAheadLogHoles { get; init; }

    /// <summary>Files whose durable image differs from what the process saw (lost, shortened, reverted or resurrected).</summary>
    public IEnumerable<PowerLossFile> Changed => Files.Where(f => f.Changed);

    /// <summary>Total bytes the live files had beyond their durable images.</summary>
    public long BytesLost => Files.Sum(f => f.BytesLost);

    /// <summary>
    /// Of <see cref="BytesLost"/>, those of RocksDB's write-ahead logs (<c>NNNNNN.log</c>; not its info <c>LOG</c>, which
    /// it writes through stdio and rarely syncs): the unsynced writes of the database itself.
    /// </summary>
    public long WriteAheadLogBytesLost => Files.Where(f => IsWriteAheadLog(f.Name)).Sum(f => f.BytesLost);

    /// <summary>Whether <paramref name="name"/> is a RocksDB write-ahead log (<c>NNNNNN.log</c>).</summary>
    internal static bool IsWriteAheadLog(string name) =>
        name.EndsWith(".log", StringComparison.Ordinal) && name.Length > 4 && name[..^4].All(char.IsAsciiDigit);

    /// <summary>One line for logs: counts and the changed files.</summary>
    public override string ToString() =>
        $"{Files.Count} files, {Changed.Count()} changed, {BytesLost} bytes lost ({WriteAheadLogBytesLost} of the WAL)" +
        (TornBytesKept > 0 ? $", {TornBytesKept} of them kept by a torn cut ({TornWriteAheadLogBytesKept} of the WAL)" : "") +
        (WriteAheadLogHoles > 0 ? $", {WriteAheadLogHoles} zeroed holes left before kept WAL pages" : "") +
        (Changed.Any() ? ": " + string.Join(", ", Changed.Select(f => $"{f.Name} {f.LiveBytes?.ToString(CultureInfo.InvariantCulture) ?? "-"}->{f.DurableBytes?.ToString(CultureInfo.InvariantCulture) ?? "-"}")) : "");
}
