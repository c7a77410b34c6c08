using System.Globalization;
using System.Text.Json;

namespace Strata.Cli.Tests;

[Collection(NodeCollection.Name)]
public sealed class EntryCommandTests(NodeFixture node)
{
    private async Task<string> BucketAsync(string hint, bool versioning = false)
    {
        string name = node.NewBucketName(hint);
        CliResult created = await Cli.RunAsync(versioning
            ? ["bucket", "create", name, "--versioning", "--address", node.Address]
            : ["bucket", "create", name, "--address", node.Address]);
        Assert.True(created.ExitCode == 0, created.ToString());
        return name;
    }

    private Task<CliResult> RunAsync(params string[] args) => Cli.RunAsync([.. args, "--address", node.Address]);

    private async Task<JsonElement> StatJsonAsync(string bucket, string path, params string[] extra)
    {
        CliResult stat = await RunAsync(["stat", bucket, path, "--json", .. extra]);
        Assert.True(stat.ExitCode == 0, stat.ToString());
        using JsonDocument json = JsonDocument.Parse(stat.Out);
        return json.RootElement.Clone();
    }

    private static ulong UInt64(JsonElement element, string name) =>
        ulong.Parse(element.GetProperty(name).GetString()!, CultureInfo.InvariantCulture);

    [Fact]
    public async Task Put_stores_every_attribute_and_stat_shows_them()
    {
        string bucket = await BucketAsync("put");

        CliResult put = await RunAsync("put", bucket, "videos/intro/seg-00001.ts", "--size", "1843200", "--etag", "9f2c", "--content-type", "video/mp2t",
            "--tier", "hdd", "--meta", "encoding-profile=h264-1080p", "--meta", "drm-key-ref=kms://k/v=1");
        CliResult table = await RunAsync("stat", bucket, "videos/intro/seg-00001.ts");
        JsonElement entry = await StatJsonAsync(bucket, "videos/intro/seg-00001.ts");

        Assert.True(put.ExitCode == 0, put.ToString());
        Assert.Equal($"put {bucket}/videos/intro/seg-00001.ts: generation {UInt64(entry, "generation")}", put.Out.Trim());
        Assert.Equal(0, table.ExitCode);
        Assert.Contains("h264-1080p", table.Out, StringComparison.Ordinal);
        Assert.Contains("1843200 bytes (1.8 MiB)", table.Out, StringComparison.Ordinal);
        Assert.Contains("hdd", table.Out, StringComparison.Ordinal);

        Assert.Equal(bucket, entry.GetProperty("bucket").GetString());
        Assert.Equal("videos/intro/seg-00001.ts", entry.GetProperty("path").GetString());
        Assert.Equal("ENTRY_KIND_OBJECT", entry.GetProperty("kind").GetString());
        JsonElement attributes = entry.GetProperty("attributes");
        Assert.Equal(1843200UL, UInt64(attributes, "size"));
        Assert.Equal("9f2c", attributes.GetProperty("etag").GetString());
        Assert.Equal("video/mp2t", attributes.GetProperty("contentType").GetString());
        Assert.Equal("TIER_HDD", attributes.GetProperty("tier").GetString());
        Assert.Equal("h264-1080p", attributes.GetProperty("userMetadata").GetProperty("encoding-profile").GetString());
        Assert.Equal("kms://k/v=1", attributes.GetProperty("userMetadata").GetProperty("drm-key-ref").GetString());
        Assert.True(UInt64(entry, "created") > 0);
    }

    [Fact]
    public async Task A_stale_if_generation_match_is_refused_and_names_the_current_generation()
    {
        string bucket = await BucketAsync("occ");
        await RunAsync("put", bucket, "manifest.m3u8", "--size", "1");
        await RunAsync("put", bucket, "manifest.m3u8", "--size", "2");
        ulong current = UInt64(await StatJsonAsync(bucket, "manifest.m3u8"), "generation");

        CliResult stale = await RunAsync("put", bucket, "manifest.m3u8", "--size", "3", "--if-generation-match", (current - 1).ToString(CultureInfo.InvariantCulture));
        CliResult fresh = await RunAsync("put", bucket, "manifest.m3u8", "--size", "4", "--if-generation-match", current.ToString(CultureInfo.InvariantCulture));

        Assert.Equal(1, stale.ExitCode);
        Assert.StartsWith("strata: precondition failed (FailedPrecondition): ", stale.Error, StringComparison.Ordinal);
        Assert.Contains($"generation {current}", stale.Error, StringComparison.Ordinal);
        Assert.True(fresh.ExitCode == 0, fresh.ToString());
        Assert.Equal(4UL, UInt64((await StatJsonAsync(bucket, "manifest.m3u8")).GetProperty("attributes"), "size"));
    }

    [Fact]
    public async Task If_none_match_refuses_to_overwrite()
    {
        string bucket = await BucketAsync("nonematch");
        CliResult first = await RunAsync("put", bucket, "a.ts", "--if-none-match");
        CliResult second = await RunAsync("put", bucket, "a.ts", "--if-none-match", "--size", "9");

        Assert.Equal(0, first.ExitCode);
        Assert.Equal(1, second.ExitCode);
        Assert.Contains("(FailedPrecondition)", second.Error, StringComparison.Ordinal);
        Assert.Equal(0UL, UInt64((await StatJsonAsync(bucket, "a.ts")).GetProperty("attributes"), "size"));
    }

    [Theory]
    [InlineData("--tier", "floppy", "tier 'floppy' is not one of ssd, hdd, tape, cloud")]
    [InlineData("--meta", "novalue", "metadata 'novalue' is not key=value")]
    [InlineData("--size", "-5", "")]
    public async Task Bad_option_values_are_usage_errors_and_send_nothing(string option, string value, string message)
    {
        string bucket = await BucketAsync("usage");

        CliResult result = await RunAsync("put", bucket, "x.ts", option, value);
        CliResult stat = await RunAsync("stat", bucket, "x.ts");

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("strata: ", result.Error, StringComparison.Ordinal);
        Assert.Contains(message, result.Error, StringComparison.Ordinal);
        Assert.Equal(1, stat.ExitCode);
    }

    [Fact]
    public async Task Stat_of_a_missing_entry_exits_1_with_not_found()
    {
        string bucket = await BucketAsync("missing");

        CliResult result = await RunAsync("stat", bucket, "nope.ts");

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("strata: not found (NotFound): ", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stat_at_a_timestamp_and_by_generation_read_older_versions()
    {
        string bucket = await BucketAsync("versions", versioning: true);
        await RunAsync("put", bucket, "doc.ts", "--size", "100");
        JsonElement first = await StatJsonAsync(bucket, "doc.ts");
        await RunAsync("put", bucket, "doc.ts", "--size", "200");

        JsonElement atFirst = await StatJsonAsync(bucket, "doc.ts", "--at", UInt64(first, "modified").ToString(CultureInfo.InvariantCulture));
        JsonElement byGeneration = await StatJsonAsync(bucket, "doc.ts", "--generation", UInt64(first, "generation").ToString(CultureInfo.InvariantCulture));
        JsonElement latest = await StatJsonAsync(bucket, "doc.ts");

        Assert.Equal(100UL, UInt64(atFirst.GetProperty("attributes"), "size"));
        Assert.Equal(100UL, UInt64(byGeneration.GetProperty("attributes"), "size"));
        Assert.False(byGeneration.GetProperty("isCurrent").GetBoolean());
        Assert.Equal(200UL, UInt64(latest.GetProperty("attributes"), "size"));
    }

    [Theory]
    [InlineData("2000-01-01T00:00:00Z", "older than the MVCC retention window")]
    [InlineData("2999-01-01T00:00:00Z", "newer than the last applied change")]
    public async Task Stat_at_a_wall_clock_time_outside_the_readable_range_is_refused(string time, string reason)
    {
        string bucket = await BucketAsync("at-range");
        await RunAsync("put", bucket, "a.ts");

        CliResult result = await RunAsync("stat", bucket, "a.ts", "--at", time);

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("strata: invalid argument (InvalidArgument): ", result.Error, StringComparison.Ordinal);
        Assert.Contains(reason, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stat_at_rejects_an_unparseable_timestamp()
    {
        CliResult result = await RunAsync("stat", "any", "x", "--at", "yesterday-ish");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("timestamp 'yesterday-ish'", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Move_renames_and_respects_preconditions_and_replace()
    {
        string bucket = await BucketAsync("mv");
        await RunAsync("put", bucket, "drafts/cut/seg-1.ts");
        await RunAsync("put", bucket, "final/other.ts");
        ulong generation = UInt64(await StatJsonAsync(bucket, "drafts/cut"), "generation");

        CliResult wrongGeneration = await RunAsync("mv", bucket, "drafts/cut", "published/cut", "--if-generation-match", (generation + 100).ToString(CultureInfo.InvariantCulture));
        CliResult moved = await RunAsync("mv", bucket, "drafts/cut", "published/cut", "--if-generation-match", generation.ToString(CultureInfo.InvariantCulture));
        CliResult gone = await RunAsync("stat", bucket, "drafts/cut/seg-1.ts");
        CliResult there = await RunAsync("stat", bucket, "published/cut/seg-1.ts");
        CliResult clash = await RunAsync("mv", bucket, "published/cut/seg-1.ts", "final/other.ts");
        CliResult replaced = await RunAsync("mv", bucket, "published/cut/seg-1.ts", "final/other.ts", "--replace");

        Assert.Equal(1, wrongGeneration.ExitCode);
        Assert.True(moved.ExitCode == 0, moved.ToString());
        Assert.StartsWith($"moved {bucket}/drafts/cut -> published/cut: generation ", moved.Out, StringComparison.Ordinal);
        Assert.Equal(1, gone.ExitCode);
        Assert.Equal(0, there.ExitCode);
        Assert.Equal(1, clash.ExitCode);
        Assert.Contains("(AlreadyExists)", clash.Error, StringComparison.Ordinal);
        Assert.True(replaced.ExitCode == 0, replaced.ToString());
    }

    [Fact]
    public async Task Remove_deletes_with_preconditions_and_versions()
    {
        string bucket = await BucketAsync("rm", versioning: true);
        await RunAsync("put", bucket, "a.ts", "--size", "1");
        ulong first = UInt64(await StatJsonAsync(bucket, "a.ts"), "generation");
        await RunAsync("put", bucket, "a.ts", "--size", "2");
        ulong second = UInt64(await StatJsonAsync(bucket, "a.ts"), "generation");

        CliResult refused = await RunAsync("rm", bucket, "a.ts", "--if-generation-match", first.ToString(CultureInfo.InvariantCulture));
        CliResult version = await RunAsync("rm", bucket, "a.ts", "--version", first.ToString(CultureInfo.InvariantCulture));
        CliResult oldVersion = await RunAsync("stat", bucket, "a.ts", "--generation", first.ToString(CultureInfo.InvariantCulture));
        CliResult removed = await RunAsync("rm", bucket, "a.ts", "--if-generation-match", second.ToString(CultureInfo.InvariantCulture));
        CliResult current = await RunAsync("stat", bucket, "a.ts");

        Assert.Equal(1, refused.ExitCode);
        Assert.True(version.ExitCode == 0, version.ToString());
        Assert.Equal(1, oldVersion.ExitCode);
        Assert.True(removed.ExitCode == 0, removed.ToString());
        Assert.StartsWith($"removed {bucket}/a.ts", removed.Out, StringComparison.Ordinal);
        Assert.Equal(1, current.ExitCode);
    }

    [Fact]
    public async Task Mkdir_and_rmdir()
    {
        string bucket = await BucketAsync("dirs");

        CliResult made = await RunAsync("mkdir", bucket, "a/b");
        JsonElement directory = await StatJsonAsync(bucket, "a/b");
        await RunAsync("put", bucket, "a/b/c.ts");
        CliResult notEmpty = await RunAsync("rmdir", bucket, "a/b");
        await RunAsync("rm", bucket, "a/b/c.ts");
        CliResult removed = await RunAsync("rmdir", bucket, "a/b");
        CliResult again = await RunAsync("mkdir", bucket, "a", "--json");

        Assert.True(made.ExitCode == 0, made.ToString());
        Assert.Equal($"created directory {bucket}/a/b/", made.Out.Trim());
        Assert.Equal("ENTRY_KIND_DIRECTORY", directory.GetProperty("kind").GetString());
        Assert.NotEqual("0", directory.GetProperty("directoryId").GetString());
        Assert.Equal(1, notEmpty.ExitCode);
        Assert.Contains("(FailedPrecondition)", notEmpty.Error, StringComparison.Ordinal);
        Assert.True(removed.ExitCode == 0, removed.ToString());
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("(AlreadyExists)", again.Error, StringComparison.Ordinal);
    }
}
