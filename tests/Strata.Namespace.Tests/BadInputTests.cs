using Strata.Namespace.Commands;
using Strata.Storage;

namespace Strata.Namespace.Tests;

/// <summary>Every refusal is precise and writes nothing (the applied index still advances: the command was applied as a no-op).</summary>
public sealed class BadInputTests : IDisposable
{
    private readonly NamespaceHarness _ns = new();

    public BadInputTests()
    {
        _ns.CreateBucket("media");
        _ns.Put("media", "keep/me.ts");
    }

    public void Dispose() => _ns.Dispose();

    public static TheoryData<string, string> BadPaths => new()
    {
        { "", "empty" },
        { "/", "empty" },
        { "a//b", "empty component" },
        { "a/./b", "'.'" },
        { "../b", "'..'" },
        { "a/\0/b", "NUL" },
        { "a/b\u0007", "control character" },
        { "a/\ud800x", "not valid UTF-8" },
        { new string('n', 256), "255 bytes" },
        { new string('\u00e9', 128), "255 bytes" },
        { string.Join('/', Enumerable.Repeat(new string('p', 200), 6)), "1024 bytes" },
    };

    [Theory]
    [MemberData(nameof(BadPaths), DisableDiscoveryEnumeration = true)]
    public void Bad_paths_are_refused_with_a_precise_message_and_change_nothing(string path, string expected)
    {
        Snapshot before = Capture();
        CommandResult put = _ns.Put("media", path);
        Assert.Equal(ResultCode.ResultInvalidArgument, put.Code);
        Assert.Contains(expected, put.Message);
        Assert.Equal(before, Capture());
        Assert.Equal(ResultCode.ResultInvalidArgument, Assert.Throws<CommandRejectedException>(() => _ns.Reader.Stat("media", path)).Code);
    }

    [Fact]
    public void A_name_of_exactly_255_bytes_and_a_path_of_1024_bytes_are_accepted()
    {
        Assert.Equal(ResultCode.ResultOk, _ns.Put("media", new string('n', 255)).Code);
        string path = string.Join('/', Enumerable.Repeat(new string('p', 255), 3)) + "/" + new string('q', 200) + "/" + new string('r', 55);
        Assert.Equal(1024, path.Length);
        Assert.Equal(ResultCode.ResultOk, _ns.Put("media", path).Code);
        CommandResult tooLong = _ns.Put("media", path + "s");
        Assert.Equal(ResultCode.ResultInvalidArgument, tooLong.Code);
        Assert.Contains("1025 bytes", tooLong.Message);
    }

    [Fact]
    public void User_metadata_over_2_KiB_is_refused()
    {
        var attributes = new ObjectAttributes { UserMetadata = { ["k"] = new string('v', NamespaceLimits.MaxUserMetadataBytes) } };
        CommandResult result = _ns.Run(new Command { Put = new PutObject { Bucket = "media", Path = "big", Attributes = attributes } });
        Assert.Equal(ResultCode.ResultInvalidArgument, result.Code);
        Assert.Contains("2048", result.Message);
        attributes.UserMetadata["k"] = new string('v', NamespaceLimits.MaxUserMetadataBytes - 1);
        Assert.Equal(ResultCode.ResultOk, _ns.Run(new Command { Put = new PutObject { Bucket = "media", Path = "big", Attributes = attributes } }).Code);
        CommandResult patch = _ns.Run(new Command { Patch = new PatchObject { Bucket = "media", Path = "big", SetMetadata = { ["x"] = "yy" } } });
        Assert.Equal(ResultCode.ResultInvalidArgument, patch.Code);
        Assert.Equal(1UL, _ns.Reader.Stat("media", "big").Metageneration);
    }

    [Theory]
    [InlineData("ab")]
    [InlineData("Upper")]
    [InlineData("-dash")]
    [InlineData("under_score")]
    [InlineData("")]
    public void Bad_bucket_names_are_refused(string name)
    {
        CommandResult result = _ns.CreateBucket(name);
        Assert.Equal(ResultCode.ResultInvalidArgument, result.Code);
        Assert.Contains("bucket name", result.Message);
    }

    [Fact]
    public void Unknown_buckets_are_not_found_for_reads_and_writes()
    {
        Assert.Equal(ResultCode.ResultNotFound, _ns.Put("nope", "a").Code);
        Assert.Contains("bucket 'nope' does not exist", _ns.Put("nope", "a").Message);
        Assert.Equal(ResultCode.ResultNotFound, Assert.Throws<CommandRejectedException>(() => _ns.Reader.Stat("nope", "a")).Code);
        Assert.Equal(ResultCode.ResultNotFound, Assert.Throws<CommandRejectedException>(() => _ns.Reader.List(new ListRequest("nope"))).Code);
        Assert.Equal(ResultCode.ResultAlreadyExists, _ns.CreateBucket("media").Code);
    }

    [Fact]
    public void Attributes_out_of_range_are_refused()
    {
        var tooMany = new ObjectAttributes();
        for (int i = 0; i <= NamespaceLimits.MaxLocations; i++)
        {
            tooMany.Locations.Add(new Location { Tier = Tier.Hdd, BlobId = $"blob-{i}" });
        }

        Assert.Equal(ResultCode.ResultInvalidArgument, _ns.Run(new Command { Put = new PutObject { Bucket = "media", Path = "x", Attributes = tooMany } }).Code);
        Assert.Equal(ResultCode.ResultInvalidArgument, _ns.Run(new Command { Put = new PutObject { Bucket = "media", Path = "x", Attributes = new ObjectAttributes { Tier = (Tier)99 } } }).Code);
        Assert.Equal(ResultCode.ResultInvalidArgument, _ns.Run(new Command { Put = new PutObject { Bucket = "media", Path = "x", Attributes = new ObjectAttributes { Locations = { new Location { Tier = Tier.Tape } } } } }).Code);
        Assert.Equal(ResultCode.ResultInvalidArgument, _ns.Run(new Command()).Code);
        Assert.Equal(ResultCode.ResultInvalidArgument, _ns.Run(new Command { Transaction = new Transaction() }).Code);
    }

    private sealed record Snapshot(int Keys, string Digest);

    private Snapshot Capture()
    {
        // Everything but the shard's applied-state record, which advances for every applied command.
        using IKvCursor cursor = _ns.Engine.Scan(KvColumn.Data, [NamespaceKeys.BucketKind], []);
        int keys = 0;
        var digest = new Crc32C();
        for (cursor.SeekToFirst(); cursor.Valid; cursor.Next())
        {
            keys++;
            digest.Append(cursor.Key);
            digest.Append(cursor.Value);
        }

        return new Snapshot(keys, digest.Result.ToString("X8"));
    }
}
