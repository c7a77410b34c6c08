namespace Strata.Bench.Scale;

/// <summary>
/// What the nodes' data directories hold on disk at one moment: every file's size (RocksDB tables, its write-ahead
/// log, the Raft log, manifests and info logs — everything a node would need disk for), and of that the sorted tables
/// (<c>*.sst</c>) alone, where the data lives once flushed and compacted.
/// </summary>
/// <param name="Directories">The data directories measured (one per node).</param>
/// <param name="Files">Files found.</param>
/// <param name="TotalBytes">Their sizes summed.</param>
/// <param name="TableBytes">The sizes of the <c>*.sst</c> files summed.</param>
public sealed record DiskUsage(int Directories, long Files, long TotalBytes, long TableBytes)
{
    /// <summary>
    /// Walks <paramref name="directories"/> (a missing one counts as empty: a node may not have created it yet).
    /// Files that vanish during the walk (a compaction deleting its inputs) are skipped.
    /// </summary>
    public static DiskUsage Measure(IReadOnlyList<string> directories)
    {
        ArgumentNullException.ThrowIfNull(directories);
        long files = 0, total = 0, tables = 0;
        foreach (string directory in directories)
        {
            if (!Directory.Exists(directory))
            {
                continue;
            }

            var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.ReparsePoint };
            foreach (string path in Directory.EnumerateFiles(directory, "*", options))
            {
                long length;
                try
                {
                    length = new FileInfo(path).Length;
                }
                catch (FileNotFoundException)
                {
                    continue;
                }

                files++;
                total += length;
                if (path.EndsWith(".sst", StringComparison.Ordinal))
                {
                    tables += length;
                }
            }
        }

        return new DiskUsage(directories.Count, files, total, tables);
    }

    /// <summary>Bytes per object per replica: the total over <paramref name="objects"/> × <paramref name="replicas"/>.</summary>
    public double BytesPerObjectPerReplica(long objects, int replicas) => objects > 0 && replicas > 0 ? Math.Round(TotalBytes / ((double)objects * replicas), 1) : 0;

    /// <summary>Table bytes per object per replica.</summary>
    public double TableBytesPerObjectPerReplica(long objects, int replicas) => objects > 0 && replicas > 0 ? Math.Round(TableBytes / ((double)objects * replicas), 1) : 0;
}
