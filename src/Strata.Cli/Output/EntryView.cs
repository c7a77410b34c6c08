using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;
using Strata.Api.V1;
using Strata.Namespace;

namespace Strata.Cli.Output;

/// <summary>How buckets and entries look in tables: one place for column choices and value formats.</summary>
internal static class EntryView
{
    /// <summary>Which timestamp a listing shows.</summary>
    public enum TimeColumn
    {
        /// <summary>When the entry last changed.</summary>
        Modified,

        /// <summary>When the current version was created (the by-time index order).</summary>
        Uploaded,
    }

    /// <summary>An HLC timestamp as UTC wall time with milliseconds.</summary>
    public static string Time(ulong hlc) =>
        hlc == 0 ? "-" : HybridClock.ToDateTime(hlc).ToString("yyyy-MM-dd HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public static string Size(ulong bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
        double value = bytes;
        int unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return unit == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{bytes} B")
            : string.Create(CultureInfo.InvariantCulture, $"{value:0.0} {units[unit]}");
    }

    public static string Name(Tier tier) => tier == Tier.Unspecified ? "-" : tier.ToString().ToLowerInvariant();

    public static string Name(LifecycleState state) =>
        state == LifecycleState.LifecycleUnspecified ? "-" : state.ToString()["Lifecycle".Length..].ToLowerInvariant();

    public static string Kind(Entry entry) => entry.Kind == EntryKind.Directory ? "dir" : "object";

    /// <summary>A listing: one row per entry, directories shown with a trailing '/'.</summary>
    public static Table Entries(IEnumerable<Entry> entries, TimeColumn time = TimeColumn.Modified, string? caption = null)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn("Path")
            .AddColumn("Kind")
            .AddColumn(new TableColumn("Size").RightAligned())
            .AddColumn("Tier")
            .AddColumn(new TableColumn("Generation").RightAligned())
            .AddColumn(time == TimeColumn.Uploaded ? "Uploaded (UTC)" : "Modified (UTC)");
        foreach (Entry entry in entries)
        {
            bool directory = entry.Kind == EntryKind.Directory;
            table.AddRow(
                Markup.Escape(directory ? entry.Path + "/" : entry.Path),
                Kind(entry),
                directory ? "" : Size(entry.Attributes?.Size ?? 0),
                directory ? "" : Name(entry.Attributes?.Tier ?? Tier.Unspecified),
                entry.Generation.ToString(CultureInfo.InvariantCulture),
                Time(time == TimeColumn.Uploaded ? entry.Created : entry.Modified));
        }

        if (caption is not null)
        {
            table.Caption(Markup.Escape(caption));
        }

        return table;
    }

    /// <summary>One entry, field by field.</summary>
    public static IRenderable Entry(Entry entry)
    {
        var grid = new Grid().AddColumn(new GridColumn().NoWrap().PadRight(2)).AddColumn();
        void Row(string field, string value) => grid.AddRow(new Text(field), new Text(value));

        Row("bucket", entry.Bucket);
        Row("path", entry.Path);
        Row("kind", Kind(entry));
        Row("generation", entry.Generation.ToString(CultureInfo.InvariantCulture));
        Row("metageneration", entry.Metageneration.ToString(CultureInfo.InvariantCulture));
        Row("created", $"{Time(entry.Created)}  (hlc {entry.Created.ToString(CultureInfo.InvariantCulture)})");
        Row("modified", $"{Time(entry.Modified)}  (hlc {entry.Modified.ToString(CultureInfo.InvariantCulture)})");
        if (!entry.IsCurrent)
        {
            Row("current", "no (noncurrent version)");
        }

        if (entry.Kind == EntryKind.Directory)
        {
            Row("directory id", entry.DirectoryId.ToString("x16", CultureInfo.InvariantCulture));
            return grid;
        }

        ObjectAttributes attributes = entry.Attributes ?? new ObjectAttributes();
        Row("size", $"{attributes.Size.ToString(CultureInfo.InvariantCulture)} bytes ({Size(attributes.Size)})");
        Row("etag", attributes.Etag.Length == 0 ? "-" : attributes.Etag);
        Row("content type", attributes.ContentType.Length == 0 ? "-" : attributes.ContentType);
        Row("tier", Name(attributes.Tier));
        Row("lifecycle", Name(attributes.Lifecycle));
        foreach (Location location in attributes.Locations)
        {
            Row("location", $"{Name(location.Tier)} {location.BlobId}");
        }

        foreach ((string key, string value) in attributes.UserMetadata.OrderBy(pair => pair.Key, StringComparer.Ordinal))
        {
            Row("meta " + key, value);
        }

        return grid;
    }

    public static Table Buckets(IEnumerable<Bucket> buckets)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumn("Bucket").AddColumn("Versioning").AddColumn("Created (UTC)");
        foreach (Bucket bucket in buckets)
        {
            table.AddRow(Markup.Escape(bucket.Name), bucket.Versioning ? "on" : "off", Time(bucket.Created));
        }

        return table;
    }
}
