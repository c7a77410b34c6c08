using System.Text.Json;

namespace Strata.Cli.Tests;

[Collection(NodeCollection.Name)]
public sealed class ListCommandTests(NodeFixture node)
{
    private Task<CliResult> RunAsync(params string[] args) => Cli.RunAsync([.. args, "--address", node.Address]);

    /// <summary>A bucket with videos/a/seg-1..3.ts (uploaded in that order) and videos/b/x.ts.</summary>
    private async Task<string> LibraryAsync(string hint)
    {
        string bucket = node.NewBucketName(hint);
        Assert.Equal(0, (await RunAsync("bucket", "create", bucket)).ExitCode);
        foreach (string path in new[] { "videos/a/seg-1.ts", "videos/a/seg-2.ts", "videos/a/seg-3.ts", "videos/b/x.ts" })
        {
            CliResult put = await RunAsync("put", bucket, path, "--size", "10");
            Assert.True(put.ExitCode == 0, put.ToString());
        }

        return bucket;
    }

    private static string[] Paths(CliResult result)
    {
        Assert.True(result.ExitCode == 0, result.ToString());
        using JsonDocument json = JsonDocument.Parse(result.Out);
        return [.. json.RootElement.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("path").GetString()!)];
    }

    [Fact]
    public async Task One_level_shows_directories_as_entries()
    {
        string bucket = await LibraryAsync("level");

        CliResult table = await RunAsync("ls", bucket, "videos/");
        string[] json = Paths(await RunAsync("ls", bucket, "videos/", "--json"));

        Assert.Equal(0, table.ExitCode);
        Assert.Contains("videos/a/", table.Out, StringComparison.Ordinal);
        Assert.Contains("dir", table.Out, StringComparison.Ordinal);
        Assert.Contains("2 entries", table.Out, StringComparison.Ordinal);
        Assert.Equal(["videos/a", "videos/b"], json);
    }

    [Fact]
    public async Task Recursive_lists_the_subtree_in_path_order()
    {
        string bucket = await LibraryAsync("recursive");

        string[] paths = Paths(await RunAsync("ls", bucket, "videos/", "--recursive", "--json"));

        Assert.Equal(["videos/a", "videos/a/seg-1.ts", "videos/a/seg-2.ts", "videos/a/seg-3.ts", "videos/b", "videos/b/x.ts"], paths);
    }

    [Fact]
    public async Task By_time_lists_newest_first_or_oldest_first()
    {
        string bucket = await LibraryAsync("bytime");

        CliResult table = await RunAsync("ls", bucket, "videos/a", "--by-time");
        string[] newest = Paths(await RunAsync("ls", bucket, "videos/a", "--by-time", "--json"));
        string[] oldest = Paths(await RunAsync("ls", bucket, "videos/a", "--by-time", "--oldest-first", "--json"));

        Assert.Contains("Uploaded (UTC)", table.Out, StringComparison.Ordinal);
        Assert.Equal(["videos/a/seg-3.ts", "videos/a/seg-2.ts", "videos/a/seg-1.ts"], newest);
        Assert.Equal(["videos/a/seg-1.ts", "videos/a/seg-2.ts", "videos/a/seg-3.ts"], oldest);
    }

    [Fact]
    public async Task Limit_shows_one_page_and_all_fetches_every_page()
    {
        string bucket = await LibraryAsync("pages");

        CliResult page = await RunAsync("ls", bucket, "videos/a/", "--limit", "2");
        CliResult pageJson = await RunAsync("ls", bucket, "videos/a/", "--limit", "2", "--json");
        string[] all = Paths(await RunAsync("ls", bucket, "videos/a/", "--limit", "2", "--all", "--json"));
        string[] allByTime = Paths(await RunAsync("ls", bucket, "videos/a", "--by-time", "--limit", "1", "--all", "--json"));

        Assert.Contains("2 entries shown; more follow (use --all)", page.Out, StringComparison.Ordinal);
        Assert.Equal(2, Paths(pageJson).Length);
        using (JsonDocument json = JsonDocument.Parse(pageJson.Out))
        {
            Assert.NotEqual("", json.RootElement.GetProperty("nextContinuationToken").GetString());
        }

        Assert.Equal(["videos/a/seg-1.ts", "videos/a/seg-2.ts", "videos/a/seg-3.ts"], all);
        Assert.Equal(["videos/a/seg-3.ts", "videos/a/seg-2.ts", "videos/a/seg-1.ts"], allByTime);
    }

    [Theory]
    [InlineData("--oldest-first", "--oldest-first needs --by-time")]
    [InlineData("--limit=0", "--limit 0 is outside 1..10000")]
    public async Task Contradictory_options_are_usage_errors(string option, string message)
    {
        CliResult result = await RunAsync("ls", "any", option);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"strata: {message}", result.Error.Trim());
    }

    [Fact]
    public async Task By_time_with_recursive_is_a_usage_error()
    {
        CliResult result = await RunAsync("ls", "any", "--by-time", "--recursive");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--by-time", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Listing_a_missing_bucket_exits_1()
    {
        CliResult result = await RunAsync("ls", "no-such-bucket");

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("strata: not found (NotFound): ", result.Error, StringComparison.Ordinal);
    }
}
