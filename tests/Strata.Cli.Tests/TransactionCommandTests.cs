using System.Text.Json;

namespace Strata.Cli.Tests;

[Collection(NodeCollection.Name)]
public sealed class TransactionCommandTests(NodeFixture node) : IDisposable
{
    private readonly DirectoryInfo _files = Directory.CreateTempSubdirectory("strata-cli-txn-");

    public void Dispose() => _files.Delete(recursive: true);

    private Task<CliResult> RunAsync(params string[] args) => Cli.RunAsync([.. args, "--address", node.Address]);

    private string File(string json)
    {
        string path = Path.Combine(_files.FullName, $"txn-{Guid.NewGuid():N}.json");
        System.IO.File.WriteAllText(path, json);
        return path;
    }

    private async Task<string> BucketAsync(string hint)
    {
        string bucket = node.NewBucketName(hint);
        Assert.Equal(0, (await RunAsync("bucket", "create", bucket)).ExitCode);
        return bucket;
    }

    [Fact]
    public async Task A_transaction_file_commits_every_operation()
    {
        string bucket = await BucketAsync("txn");
        await RunAsync("put", bucket, "draft/seg-1.ts");
        await RunAsync("put", bucket, "old.ts");
        string file = File($$$"""
            [
              {"op": "guard", "bucket": "{{{bucket}}}", "path": "manifest.m3u8", "ifGenerationMatch": 0},
              {"op": "put", "bucket": "{{{bucket}}}", "path": "manifest.m3u8", "size": 512, "contentType": "application/vnd.apple.mpegurl",
               "tier": "ssd", "meta": {"playlist-type": "vod"}},
              {"op": "mv", "bucket": "{{{bucket}}}", "src": "draft", "dst": "published"},
              {"op": "rm", "bucket": "{{{bucket}}}", "path": "old.ts"},
              {"op": "mkdir", "bucket": "{{{bucket}}}", "path": "thumbs"},
              {"op": "patch", "bucket": "{{{bucket}}}", "path": "published/seg-1.ts", "tier": "tape", "setMeta": {"k": "v"}}
            ]
            """);

        CliResult table = await RunAsync("txn", "--file", file);
        CliResult manifest = await RunAsync("stat", bucket, "manifest.m3u8", "--json");
        CliResult moved = await RunAsync("stat", bucket, "published/seg-1.ts", "--json");
        CliResult removed = await RunAsync("stat", bucket, "old.ts");

        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains("committed 6 operations atomically", table.Out, StringComparison.Ordinal);
        Assert.Contains("MakeDirectory", table.Out, StringComparison.Ordinal);
        using JsonDocument json = JsonDocument.Parse(manifest.Out);
        Assert.Equal("512", json.RootElement.GetProperty("attributes").GetProperty("size").GetString());
        Assert.Equal("vod", json.RootElement.GetProperty("attributes").GetProperty("userMetadata").GetProperty("playlist-type").GetString());
        using JsonDocument segment = JsonDocument.Parse(moved.Out);
        Assert.Equal("TIER_TAPE", segment.RootElement.GetProperty("attributes").GetProperty("tier").GetString());
        Assert.Equal(1, removed.ExitCode);
    }

    [Fact]
    public async Task A_transaction_read_from_standard_input_prints_json_results()
    {
        string bucket = await BucketAsync("stdin");
        string json = $$$"""[{"op": "put", "bucket": "{{{bucket}}}", "path": "a.ts", "size": 1}, {"op": "put", "bucket": "{{{bucket}}}", "path": "b.ts"}]""";

        CliResult result = await Cli.RunAsync(["txn", "--file", "-", "--json", "--address", node.Address], json);

        Assert.True(result.ExitCode == 0, result.ToString());
        using JsonDocument document = JsonDocument.Parse(result.Out);
        Assert.Equal(["a.ts", "b.ts"], document.RootElement.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("path").GetString()));
    }

    [Fact]
    public async Task A_failed_guard_refuses_the_whole_transaction_and_changes_nothing()
    {
        string bucket = await BucketAsync("guard");
        await RunAsync("put", bucket, "manifest.m3u8");
        string file = File($$$"""
            [
              {"op": "put", "bucket": "{{{bucket}}}", "path": "new.ts"},
              {"op": "guard", "bucket": "{{{bucket}}}", "path": "manifest.m3u8", "ifGenerationMatch": 0},
              {"op": "rm", "bucket": "{{{bucket}}}", "path": "manifest.m3u8"}
            ]
            """);

        CliResult result = await RunAsync("txn", "--file", file);
        CliResult created = await RunAsync("stat", bucket, "new.ts");
        CliResult kept = await RunAsync("stat", bucket, "manifest.m3u8");

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("strata: precondition failed (FailedPrecondition): ", result.Error, StringComparison.Ordinal);
        Assert.Contains("operation 1", result.Error, StringComparison.Ordinal);
        Assert.Equal(1, created.ExitCode);
        Assert.Equal(0, kept.ExitCode);
    }

    [Theory]
    [InlineData("{not json", "txn file is not valid JSON")]
    [InlineData("{}", "txn file must be a JSON array of operations")]
    [InlineData("[]", "txn file has no operations")]
    [InlineData("""[{"op": "explode", "bucket": "b", "path": "x"}]""", "operation 0 (explode) has unknown op 'explode'")]
    [InlineData("""[{"op": "put", "bucket": "b"}]""", "operation 0 (put) needs field 'path'")]
    [InlineData("""[{"op": "put", "bucket": "b", "path": "x", "ifGenerationMatsh": 1}]""", "operation 0 (put) has unknown field 'ifGenerationMatsh'")]
    [InlineData("""[{"op": "put", "bucket": "b", "path": "x", "size": -1}]""", "field 'size' must be a non-negative integer")]
    [InlineData("""[{"op": "put", "bucket": "b", "path": "x", "tier": "floppy"}]""", "tier 'floppy' is not one of")]
    [InlineData("""[{"op": "guard", "bucket": "b", "path": "x"}]""", "a guard needs a precondition")]
    public async Task Malformed_files_are_usage_errors(string json, string message)
    {
        CliResult result = await RunAsync("txn", "--file", File(json));

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("strata: ", result.Error, StringComparison.Ordinal);
        Assert.Contains(message, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_file_is_a_usage_error()
    {
        CliResult result = await RunAsync("txn", "--file", Path.Combine(_files.FullName, "absent.json"));

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("strata: cannot read txn file", result.Error, StringComparison.Ordinal);
    }
}
