using System.Text.Json;

namespace Strata.Cli.Tests;

[Collection(NodeCollection.Name)]
public sealed class BucketCommandTests(NodeFixture node)
{
    [Fact]
    public async Task Create_list_and_remove_a_bucket()
    {
        string name = node.NewBucketName("photos");

        CliResult created = await Cli.RunAsync("bucket", "create", name, "--versioning", "--address", node.Address);
        CliResult listed = await Cli.RunAsync("bucket", "ls", "--address", node.Address);
        CliResult removed = await Cli.RunAsync("bucket", "rm", name, "--address", node.Address);
        CliResult after = await Cli.RunAsync("bucket", "ls", "--address", node.Address);

        Assert.True(created.ExitCode == 0, created.ToString());
        Assert.Equal($"created bucket {name} (versioning on)", created.Out.Trim());
        Assert.Equal(0, listed.ExitCode);
        Assert.Contains(name, listed.Out, StringComparison.Ordinal);
        Assert.Contains("Versioning", listed.Out, StringComparison.Ordinal);
        Assert.Equal(0, removed.ExitCode);
        Assert.Equal($"removed bucket {name}", removed.Out.Trim());
        Assert.DoesNotContain(name, after.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bucket_listing_as_json_has_every_field()
    {
        string name = node.NewBucketName("json");
        await Cli.RunAsync("bucket", "create", name, "--address", node.Address);

        CliResult listed = await Cli.RunAsync("bucket", "ls", "--json", "--address", node.Address);

        Assert.Equal(0, listed.ExitCode);
        using JsonDocument json = JsonDocument.Parse(listed.Out);
        JsonElement bucket = json.RootElement.GetProperty("buckets").EnumerateArray().Single(b => b.GetProperty("name").GetString() == name);
        Assert.False(bucket.GetProperty("versioning").GetBoolean());
        Assert.True(ulong.Parse(bucket.GetProperty("created").GetString()!, System.Globalization.CultureInfo.InvariantCulture) > 0);
    }

    [Fact]
    public async Task Creating_an_existing_bucket_is_refused_with_exit_1_and_the_status()
    {
        string name = node.NewBucketName("twice");
        await Cli.RunAsync("bucket", "create", name, "--address", node.Address);

        CliResult again = await Cli.RunAsync("bucket", "create", name, "--address", node.Address);

        Assert.Equal(1, again.ExitCode);
        Assert.StartsWith("strata: already exists (AlreadyExists): ", again.Error, StringComparison.Ordinal);
        Assert.Single(again.Error.TrimEnd().Split('\n'));
        Assert.Equal("", again.Out);
    }

    [Fact]
    public async Task Removing_a_missing_bucket_is_refused_with_not_found()
    {
        CliResult result = await Cli.RunAsync("bucket", "rm", "no-such-bucket", "--address", node.Address);

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("strata: not found (NotFound): ", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Removing_a_non_empty_bucket_is_refused_and_keeps_it()
    {
        string name = node.NewBucketName("full");
        await Cli.RunAsync("bucket", "create", name, "--address", node.Address);
        await Cli.RunAsync("put", name, "a.ts", "--address", node.Address);

        CliResult result = await Cli.RunAsync("bucket", "rm", name, "--address", node.Address);
        CliResult stat = await Cli.RunAsync("stat", name, "a.ts", "--address", node.Address);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("(FailedPrecondition)", result.Error, StringComparison.Ordinal);
        Assert.Equal(0, stat.ExitCode);
    }
}
