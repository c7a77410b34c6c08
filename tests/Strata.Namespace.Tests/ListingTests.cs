using Strata.Namespace.Commands;

namespace Strata.Namespace.Tests;

public sealed class ListingTests : IDisposable
{
    private readonly NamespaceHarness _ns = new();

    public ListingTests() => _ns.CreateBucket("media");

    public void Dispose() => _ns.Dispose();

    [Fact]
    public void Entries_are_ordered_as_full_paths_with_directories_ending_in_a_slash()
    {
        foreach (string path in new[] { "a0", "a/x", "a-b", "a.c/y", "b", "a/b/c", "a" + "\u00e9" })
        {
            Assert.Equal(ResultCode.ResultOk, _ns.Put("media", path).Code);
        }

        Assert.Equal(["a-b", "a.c/", "a/", "a0", "a\u00e9", "b"], _ns.ListPaths("media"));
        Assert.Equal(["a-b", "a.c/", "a.c/y", "a/", "a/b/", "a/b/c", "a/x", "a0", "a\u00e9", "b"], _ns.ListPaths("media", recursive: true));
        // Same order whatever the page size: every page boundary resumes exactly after the last path.
        for (int limit = 1; limit <= 4; limit++)
        {
            Assert.Equal(_ns.ListPaths("media", recursive: true), _ns.ListPaths("media", recursive: true, limit: limit));
        }
    }

    [Fact]
    public void A_prefix_selects_a_directory_or_names_within_it()
    {
        _ns.Put("media", "videos/2024/a.ts");
        _ns.Put("media", "videos/2025/b.ts");
        _ns.Put("media", "videos/2025x.ts");
        _ns.Put("media", "videos/other.ts");

        Assert.Equal(["videos/2024/", "videos/2025/", "videos/2025x.ts", "videos/other.ts"], _ns.ListPaths("media", "videos/"));
        Assert.Equal(["videos/2025/", "videos/2025x.ts"], _ns.ListPaths("media", "videos/2025"));
        Assert.Equal(["videos/2025/", "videos/2025/b.ts", "videos/2025x.ts"], _ns.ListPaths("media", "videos/2025", recursive: true));
        Assert.Empty(_ns.ListPaths("media", "videos/zzz"));
        Assert.Equal(ResultCode.ResultNotFound, Assert.Throws<CommandRejectedException>(() => _ns.ListPaths("media", "nothing/")).Code);
    }

    [Fact]
    public void Start_after_skips_everything_up_to_and_including_that_path()
    {
        foreach (string path in new[] { "a/1", "a/2", "a-b", "b/1", "c" })
        {
            _ns.Put("media", path);
        }

        ListPage page = _ns.Reader.List(new ListRequest("media", Recursive: true, StartAfter: "a/1"));
        Assert.Equal(["a/2", "b", "b/1", "c"], page.Entries.Select(e => e.Path));
    }

    [Fact]
    public void Start_after_a_name_finds_the_directories_named_by_its_prefixes_that_order_after_it()
    {
        // "obj" and "obj-1" are directories; in path order they come as "obj-1" and "obj", after every "obj-…" and
        // "obj.…" name, though their names come first in storage order. A page that starts after "obj-2" must still
        // find them (the scan seeks to "obj-2" itself, and looks the directories up by name).
        foreach (string path in new[] { "obj/inner", "obj-1/inner", "obj-2", "obj-3", "obj.x", "obj0", "obj-2.5/y" })
        {
            Assert.Equal(ResultCode.ResultOk, _ns.Put("media", path).Code);
        }

        Assert.Equal(["obj-2.5", "obj-3", "obj.x", "obj", "obj0"], _ns.Reader.List(new ListRequest("media", StartAfter: "obj-2")).Entries.Select(e => e.Path));
        Assert.Equal(["obj-1", "obj-2", "obj-2.5", "obj-3", "obj.x", "obj", "obj0"], _ns.Reader.List(new ListRequest("media", StartAfter: "obj-1.")).Entries.Select(e => e.Path));
        Assert.Equal(["obj-3", "obj.x", "obj", "obj/inner", "obj0"], _ns.Reader.List(new ListRequest("media", Recursive: true, StartAfter: "obj-2.5/y")).Entries.Select(e => e.Path));
        Assert.Equal(["obj", "obj0"], _ns.Reader.List(new ListRequest("media", StartAfter: "obj.x")).Entries.Select(e => e.Path));
        Assert.Equal(["obj-3", "obj.x"], _ns.Reader.List(new ListRequest("media", "obj-3", StartAfter: "obj-2")).Entries.Select(e => e.Path)
            .Concat(_ns.Reader.List(new ListRequest("media", "obj.", StartAfter: "obj-2")).Entries.Select(e => e.Path)));
        // Every page size gives the same listing as one page.
        for (int limit = 1; limit <= 3; limit++)
        {
            Assert.Equal(_ns.ListPaths("media", recursive: true), _ns.ListPaths("media", recursive: true, limit: limit));
        }
    }

    [Fact]
    public void Pagination_survives_concurrent_creates_and_deletes()
    {
        for (int i = 0; i < 10; i++)
        {
            _ns.Put("media", $"d/{i:D2}");
        }

        ListPage first = _ns.Reader.List(new ListRequest("media", "d/", Limit: 4));
        Assert.Equal(["d/00", "d/01", "d/02", "d/03"], first.Entries.Select(e => e.Path));
        _ns.Delete("media", "d/04");   // deleted before it is reached: not returned
        _ns.Put("media", "d/035");     // created after the last returned path: returned
        _ns.Put("media", "d/005");     // created before it: not returned on later pages
        _ns.Delete("media", "d/01");   // already returned: no effect on later pages

        var rest = new List<string>();
        string? token = first.NextToken;
        while (token is not null)
        {
            ListPage page = _ns.Reader.List(new ListRequest("media", "d/", Limit: 4, ContinuationToken: token));
            rest.AddRange(page.Entries.Select(e => e.Path));
            token = page.NextToken;
        }

        Assert.Equal(["d/035", "d/05", "d/06", "d/07", "d/08", "d/09"], rest);
    }

    [Fact]
    public void Continuation_tokens_that_are_malformed_or_from_another_listing_are_refused()
    {
        for (int i = 0; i < 3; i++)
        {
            _ns.Put("media", $"d/{i}");
        }

        string token = _ns.Reader.List(new ListRequest("media", "d/", Limit: 1)).NextToken!;
        CommandRejectedException garbage = Assert.Throws<CommandRejectedException>(
            () => _ns.Reader.List(new ListRequest("media", "d/", ContinuationToken: "!!not-a-token!!")));
        Assert.Equal(ResultCode.ResultInvalidArgument, garbage.Code);
        Assert.Contains("continuation token", garbage.Message);
        CommandRejectedException foreign = Assert.Throws<CommandRejectedException>(
            () => _ns.Reader.List(new ListRequest("media", "", ContinuationToken: token)));
        Assert.Equal(ResultCode.ResultInvalidArgument, foreign.Code);
        string tampered = (token[0] == 'A' ? "B" : "A") + token[1..];
        Assert.Equal(ResultCode.ResultInvalidArgument,
            Assert.Throws<CommandRejectedException>(() => _ns.Reader.List(new ListRequest("media", "d/", ContinuationToken: tampered))).Code);
        Assert.Equal(ResultCode.ResultInvalidArgument,
            Assert.Throws<CommandRejectedException>(() => _ns.Reader.List(new ListRequest("media", "d/", Limit: 0))).Code);
    }

    [Fact]
    public void Listing_by_upload_time_pages_newest_first_and_oldest_first()
    {
        string[] names = ["m", "c", "x", "a", "q"];
        foreach (string name in names)
        {
            _ns.Put("media", $"up/{name}");
        }

        _ns.Put("media", "up/c"); // re-upload moves c to the newest position
        _ns.Run(new Command { Patch = new PatchObject { Bucket = "media", Path = "up/m", ContentType = "text/plain" } }); // metadata only: stays

        Assert.Equal(["up/c", "up/q", "up/a", "up/x", "up/m"], ByTime(newestFirst: true, limit: 2));
        Assert.Equal(["up/m", "up/x", "up/a", "up/q", "up/c"], ByTime(newestFirst: false, limit: 3));
        _ns.Rename("media", "up/x", "up/x2");
        _ns.Delete("media", "up/q");
        Assert.Equal(["up/m", "up/x2", "up/a", "up/c"], ByTime(newestFirst: false, limit: 1));
    }

    private List<string> ByTime(bool newestFirst, int limit)
    {
        var paths = new List<string>();
        string? token = null;
        do
        {
            ListPage page = _ns.Reader.ListByTime("media", "up", newestFirst, limit, token);
            Assert.True(page.Entries.Count <= limit);
            paths.AddRange(page.Entries.Select(e => e.Path));
            token = page.NextToken;
        }
        while (token is not null);
        return paths;
    }
}
