using Strata.Namespace.Commands;
using Strata.Storage;

namespace Strata.Namespace.Tests;

public sealed class StateMachineTests : IDisposable
{
    private readonly NamespaceHarness _ns = new();

    public void Dispose() => _ns.Dispose();

    [Fact]
    public void Put_creates_missing_parent_directories_and_stat_finds_the_object()
    {
        Assert.Equal(ResultCode.ResultOk, _ns.CreateBucket("media").Code);
        CommandResult put = _ns.Put("media", "creators/ann/video.ts", size: 42);

        Assert.Equal(ResultCode.ResultOk, put.Code);
        Assert.Equal(_ns.Clock, put.Entry.Generation);
        Assert.Equal(1UL, put.Entry.Metageneration);
        EntryInfo stat = _ns.Reader.Stat("media", "creators/ann/video.ts");
        Assert.Equal(42UL, stat.Attributes.Size);
        Assert.Equal(EntryKind.Directory, _ns.Reader.Stat("media", "creators").Kind);
        Assert.Equal(EntryKind.Directory, _ns.Reader.Stat("media", "creators/ann").Kind);
        Assert.NotEqual(0UL, _ns.Reader.Stat("media", "creators/ann").DirectoryId);
    }

    [Fact]
    public void Overwrite_gets_a_new_generation_and_patch_bumps_only_the_metageneration()
    {
        _ns.CreateBucket("media");
        ulong first = _ns.Put("media", "a.ts").Entry.Generation;
        ulong second = _ns.Put("media", "a.ts").Entry.Generation;
        Assert.True(second > first);

        CommandResult patch = _ns.Run(new Command
        {
            Patch = new PatchObject { Bucket = "media", Path = "a.ts", ContentType = "video/mp2t", SetMetadata = { ["profile"] = "h264" } },
        });
        Assert.Equal(ResultCode.ResultOk, patch.Code);
        Assert.Equal(second, patch.Entry.Generation);
        Assert.Equal(2UL, patch.Entry.Metageneration);
        Assert.Equal("h264", _ns.Reader.Stat("media", "a.ts").Attributes.UserMetadata["profile"]);
    }

    [Fact]
    public void Failed_precondition_names_the_entry_and_its_generation_and_changes_nothing()
    {
        _ns.CreateBucket("media");
        ulong generation = _ns.Put("media", "a.ts", size: 1).Entry.Generation;

        CommandResult conflict = _ns.Put("media", "a.ts", size: 2, new Preconditions { IfGenerationMatch = generation + 7 });

        Assert.Equal(ResultCode.ResultFailedPrecondition, conflict.Code);
        Assert.Equal("a.ts", conflict.FailedPath);
        Assert.Equal(generation, conflict.CurrentGeneration);
        Assert.Contains($"generation {generation}", conflict.Message);
        Assert.Equal(1UL, _ns.Reader.Stat("media", "a.ts").Attributes.Size);
    }

    [Fact]
    public void Each_precondition_kind_passes_when_it_holds_and_fails_when_it_does_not()
    {
        _ns.CreateBucket("media");
        Assert.Equal(ResultCode.ResultOk, _ns.Put("media", "new", preconditions: new Preconditions { IfGenerationMatch = 0 }).Code);
        Assert.Equal(ResultCode.ResultFailedPrecondition, _ns.Put("media", "new", preconditions: new Preconditions { IfGenerationMatch = 0 }).Code);
        Assert.Equal(ResultCode.ResultFailedPrecondition, _ns.Put("media", "new", preconditions: new Preconditions { IfNoneMatch = true }).Code);
        Assert.Equal(ResultCode.ResultOk, _ns.Put("media", "other", preconditions: new Preconditions { IfNoneMatch = true }, etag: "e1").Code);
        Assert.Equal(ResultCode.ResultOk, _ns.Put("media", "other", preconditions: new Preconditions { IfMatch = "e1" }, etag: "e2").Code);
        CommandResult wrongEtag = _ns.Put("media", "other", preconditions: new Preconditions { IfMatch = "e1" });
        Assert.Equal(ResultCode.ResultFailedPrecondition, wrongEtag.Code);
        Assert.Contains("\"e2\"", wrongEtag.Message);
        Assert.Equal(ResultCode.ResultOk, _ns.Put("media", "other", preconditions: new Preconditions { IfMetagenerationMatch = 1 }).Code);
        Assert.Equal(ResultCode.ResultFailedPrecondition, _ns.Put("media", "other", preconditions: new Preconditions { IfMetagenerationMatch = 5 }).Code);
        Assert.Equal(ResultCode.ResultFailedPrecondition, _ns.Put("media", "missing", preconditions: new Preconditions { IfGenerationMatch = 9 }).Code);
    }

    [Fact]
    public void Renaming_a_directory_moves_one_entry_whatever_it_holds()
    {
        _ns.CreateBucket("media");
        for (int i = 0; i < 500; i++)
        {
            _ns.Put("media", $"big/seg-{i:D5}.ts");
        }

        _ns.Put("media", "small/only.ts");
        int bigRenameWrites = CountWrites(() => _ns.Rename("media", "big", "moved-big"));
        int smallRenameWrites = CountWrites(() => _ns.Rename("media", "small", "moved-small"));

        Assert.Equal(smallRenameWrites, bigRenameWrites);
        Assert.Equal(500, _ns.ListPaths("media", "moved-big/").Count);
        Assert.Equal(ResultCode.ResultNotFound, Assert.Throws<CommandRejectedException>(() => _ns.Reader.Stat("media", "big/seg-00000.ts")).Code);
        Assert.Equal(_ns.Reader.Stat("media", "moved-big").DirectoryId, _ns.Reader.Stat("media", "moved-big").DirectoryId);
        _ns.Reader.Stat("media", "moved-big/seg-00499.ts");
    }

    private int CountWrites(Func<CommandResult> action)
    {
        int before = CountKeys();
        CommandResult result = action();
        Assert.Equal(ResultCode.ResultOk, result.Code);
        return CountKeys() - before;
    }

    private int CountKeys()
    {
        using IKvCursor cursor = _ns.Engine.Scan(KvColumn.Data, [], []);
        int count = 0;
        for (cursor.SeekToFirst(); cursor.Valid; cursor.Next())
        {
            count++;
        }

        return count;
    }

    [Fact]
    public void Moving_a_directory_into_its_own_subtree_is_refused()
    {
        _ns.CreateBucket("media");
        _ns.Put("media", "a/b/c/x.ts");

        CommandResult intoChild = _ns.Rename("media", "a", "a/b/c/a");
        Assert.Equal(ResultCode.ResultInvalidArgument, intoChild.Code);
        Assert.Contains("own subtree", intoChild.Message);

        // Same refusal when the path check alone cannot see it: move b out, then try to move a under b's new place.
        Assert.Equal(ResultCode.ResultOk, _ns.Rename("media", "a/b", "b").Code);
        Assert.Equal(ResultCode.ResultOk, _ns.Rename("media", "a", "b/c/a").Code);
        CommandResult cycle = _ns.Rename("media", "b", "b/c/a/b2");
        Assert.Equal(ResultCode.ResultInvalidArgument, cycle.Code);
        _ns.Reader.Stat("media", "b/c/a");
        _ns.Reader.Stat("media", "b/c/x.ts");
    }

    [Fact]
    public void Rename_refuses_an_existing_destination_unless_replacing_an_object()
    {
        _ns.CreateBucket("media");
        _ns.Put("media", "a.ts", size: 1);
        _ns.Put("media", "b.ts", size: 2);
        _ns.Mkdir("media", "dir");

        Assert.Equal(ResultCode.ResultAlreadyExists, _ns.Rename("media", "a.ts", "b.ts").Code);
        Assert.Equal(ResultCode.ResultAlreadyExists, _ns.Rename("media", "a.ts", "dir").Code);
        Assert.Equal(ResultCode.ResultOk, _ns.Rename("media", "a.ts", "b.ts", replace: true).Code);
        Assert.Equal(1UL, _ns.Reader.Stat("media", "b.ts").Attributes.Size);
        Assert.Equal(ResultCode.ResultNotFound, _ns.Rename("media", "a.ts", "c.ts").Code);
    }

    [Fact]
    public void Rmdir_and_delete_bucket_refuse_non_empty_targets()
    {
        _ns.CreateBucket("media");
        _ns.Put("media", "d/x");
        Assert.Equal(ResultCode.ResultNotEmpty, _ns.Rmdir("media", "d").Code);
        Assert.Equal(ResultCode.ResultNotEmpty, _ns.Run(new Command { DeleteBucket = new DeleteBucket { Name = "media" } }).Code);
        Assert.Equal(ResultCode.ResultFailedPrecondition, _ns.Rmdir("media", "d/x").Code);
        Assert.Equal(ResultCode.ResultFailedPrecondition, _ns.Delete("media", "d").Code);
        Assert.Equal(ResultCode.ResultOk, _ns.Delete("media", "d/x").Code);
        Assert.Equal(ResultCode.ResultOk, _ns.Rmdir("media", "d").Code);
        Assert.Equal(ResultCode.ResultOk, _ns.Run(new Command { DeleteBucket = new DeleteBucket { Name = "media" } }).Code);
        Assert.Equal(ResultCode.ResultNotFound, Assert.Throws<CommandRejectedException>(() => _ns.Reader.GetBucket("media")).Code);
    }

    [Fact]
    public void A_transaction_applies_all_operations_or_none()
    {
        _ns.CreateBucket("media");
        ulong generation = _ns.Put("media", "manifest.m3u8").Entry.Generation;

        CommandResult failed = _ns.Run(new Command
        {
            Transaction = new Transaction
            {
                Operations =
                {
                    new Operation { Put = new PutObject { Bucket = "media", Path = "seg/1.ts", Attributes = new ObjectAttributes() } },
                    new Operation { Guard = new Guard { Bucket = "media", Path = "manifest.m3u8", Preconditions = new Preconditions { IfGenerationMatch = generation + 1 } } },
                    new Operation { Delete = new DeleteObject { Bucket = "media", Path = "manifest.m3u8" } },
                },
            },
        });
        Assert.Equal(ResultCode.ResultFailedPrecondition, failed.Code);
        Assert.Equal(1, failed.FailedOperation);
        Assert.Throws<CommandRejectedException>(() => _ns.Reader.Stat("media", "seg"));
        _ns.Reader.Stat("media", "manifest.m3u8");

        CommandResult committed = _ns.Run(new Command
        {
            Transaction = new Transaction
            {
                Operations =
                {
                    new Operation { Put = new PutObject { Bucket = "media", Path = "seg/1.ts", Attributes = new ObjectAttributes() } },
                    new Operation { Guard = new Guard { Bucket = "media", Path = "manifest.m3u8", Preconditions = new Preconditions { IfGenerationMatch = generation } } },
                    new Operation { Rename = new Rename { Bucket = "media", Source = "manifest.m3u8", Destination = "seg/index.m3u8" } },
                },
            },
        });
        Assert.Equal(ResultCode.ResultOk, committed.Code);
        Assert.Equal(3, committed.Operations.Count);
        Assert.Equal(["seg/", "seg/1.ts", "seg/index.m3u8"], _ns.ListPaths("media", recursive: true));
    }

    [Fact]
    public void A_retried_client_command_returns_its_first_result_and_applies_once()
    {
        _ns.CreateBucket("media");
        _ns.Put("media", "a.ts");
        Command delete = NamespaceHarness.AsClient(new Command { Delete = new DeleteObject { Bucket = "media", Path = "a.ts" } }, 1, 1);

        CommandResult first = _ns.Run(delete.Clone());
        CommandResult retry = _ns.Run(delete.Clone());

        Assert.Equal(ResultCode.ResultOk, first.Code);
        Assert.Equal(first, retry);

        Command put = NamespaceHarness.AsClient(new Command { Put = new PutObject { Bucket = "media", Path = "b.ts", Attributes = new() } }, 1, 2);
        ulong generation = _ns.Run(put.Clone()).Entry.Generation;
        Assert.Equal(generation, _ns.Run(put.Clone()).Entry.Generation);
        Assert.Single(_ns.Reader.ListVersions("media", "b.ts"));
    }

    [Fact]
    public void Sequences_older_than_the_window_are_refused_and_expired_sessions_are_forgotten()
    {
        _ns.CreateBucket("media");
        ulong last = NamespaceLimits.SessionWindow + 10;
        for (ulong sequence = 1; sequence <= last; sequence++)
        {
            _ns.Run(NamespaceHarness.AsClient(new Command { Put = new PutObject { Bucket = "media", Path = $"o{sequence % 3}", Attributes = new() } }, 7, sequence));
        }

        CommandResult old = _ns.Run(NamespaceHarness.AsClient(new Command { Put = new PutObject { Bucket = "media", Path = "x", Attributes = new() } }, 7, 5));
        Assert.Equal(ResultCode.ResultSessionExpired, old.Code);
        Assert.Throws<CommandRejectedException>(() => _ns.Reader.Stat("media", "x"));
        int storedResults = CountKind(NamespaceKeys.ResultKind);
        Assert.Equal((int)NamespaceLimits.SessionWindow, storedResults);

        CommandResult gc = _ns.Run(new Command { CollectGarbage = new CollectGarbage { SessionExpiryBefore = _ns.Clock + 1 } });
        Assert.Equal(ResultCode.ResultOk, gc.Code);
        Assert.Equal(0, CountKind(NamespaceKeys.ResultKind));
        Assert.Equal(0, CountKind(NamespaceKeys.SessionKind));
    }

    private int CountKind(byte kind)
    {
        using IKvCursor cursor = _ns.Engine.Scan(KvColumn.Data, [kind], [(byte)(kind + 1)]);
        int count = 0;
        for (cursor.SeekToFirst(); cursor.Valid; cursor.Next())
        {
            count++;
        }

        return count;
    }

    [Fact]
    public void Reads_at_a_timestamp_see_the_state_as_of_then_until_garbage_collected()
    {
        _ns.CreateBucket("media");
        _ns.Put("media", "a.ts", size: 1);
        ulong afterFirst = _ns.Clock;
        _ns.Put("media", "a.ts", size: 2);
        ulong afterSecond = _ns.Clock;
        _ns.Delete("media", "a.ts");

        Assert.Equal(1UL, _ns.Reader.Stat("media", "a.ts", afterFirst).Attributes.Size);
        Assert.Equal(2UL, _ns.Reader.Stat("media", "a.ts", afterSecond).Attributes.Size);
        Assert.Throws<CommandRejectedException>(() => _ns.Reader.Stat("media", "a.ts"));
        Assert.Equal(["a.ts"], _ns.Reader.List(new ListRequest("media", At: afterFirst)).Entries.Select(e => e.Path));
        Assert.Empty(_ns.Reader.List(new ListRequest("media")).Entries);

        CommandResult gc = _ns.Run(new Command { CollectGarbage = new CollectGarbage { MvccHorizon = afterSecond } });
        Assert.Equal(1UL, gc.Removed); // the first version: nothing at or after the horizon can see it
        Assert.Equal(2UL, _ns.Reader.Stat("media", "a.ts", afterSecond).Attributes.Size);
        Assert.Throws<CommandRejectedException>(() => _ns.Reader.Stat("media", "a.ts", afterFirst));

        _ns.Run(new Command { CollectGarbage = new CollectGarbage { MvccHorizon = _ns.Clock } });
        Assert.Equal(0, CountKind(NamespaceKeys.EntryKind));
    }

    [Fact]
    public void Versioned_buckets_keep_noncurrent_versions()
    {
        _ns.CreateBucket("archive", versioning: true);
        ulong v1 = _ns.Put("archive", "doc", size: 1).Entry.Generation;
        ulong v2 = _ns.Put("archive", "doc", size: 2).Entry.Generation;
        _ns.Delete("archive", "doc");
        ulong v3 = _ns.Put("archive", "doc", size: 3).Entry.Generation;

        IReadOnlyList<EntryInfo> versions = _ns.Reader.ListVersions("archive", "doc");
        Assert.Equal([v3, v2, v1], versions.Select(v => v.Generation));
        Assert.Equal([true, false, false], versions.Select(v => v.IsCurrent));
        Assert.Equal(1UL, _ns.Reader.StatVersion("archive", "doc", v1).Attributes.Size);

        CommandResult purge = _ns.Run(new Command { Delete = new DeleteObject { Bucket = "archive", Path = "doc", Version = v1 } });
        Assert.Equal(ResultCode.ResultOk, purge.Code);
        Assert.Equal([v3, v2], _ns.Reader.ListVersions("archive", "doc").Select(v => v.Generation));
        Assert.Equal(ResultCode.ResultNotFound, _ns.Run(new Command { Delete = new DeleteObject { Bucket = "archive", Path = "doc", Version = v1 } }).Code);
    }

    [Fact]
    public void Reapplying_already_applied_commands_is_harmless()
    {
        _ns.CreateBucket("media");
        var command = new Command { Timestamp = _ns.Clock + 5, IdSeed = 1, Put = new PutObject { Bucket = "media", Path = "a", Attributes = new() } };
        ulong index = _ns.Machine.AppliedIndex + 1;
        _ns.Machine.Apply([new LoggedCommand(index, command)], sync: true);
        ulong generation = _ns.Reader.Stat("media", "a").Generation;

        _ns.Reopen();
        IReadOnlyList<CommandResult?> again = _ns.Machine.Apply([new LoggedCommand(index, command)], sync: true);

        Assert.Null(again[0]);
        Assert.Equal(index, _ns.Machine.AppliedIndex);
        Assert.Equal(generation, _ns.Reader.Stat("media", "a").Generation);
        Assert.Throws<InvalidOperationException>(() => _ns.Machine.Apply([new LoggedCommand(index + 2, command)], sync: false));
    }

    [Fact]
    public void Versions_keep_growing_even_when_a_proposer_clock_goes_backwards()
    {
        _ns.CreateBucket("media");
        ulong first = _ns.Put("media", "a").Entry.Generation;
        CommandResult earlier = _ns.Run(new Command { Timestamp = 5, Put = new PutObject { Bucket = "media", Path = "a", Attributes = new() } });
        Assert.True(earlier.Entry.Generation > first);
        Assert.Equal(earlier.Entry.Generation, _ns.Reader.Stat("media", "a").Generation);
    }

    [Fact]
    public void Snapshot_restores_the_same_namespace_into_another_engine_and_rejects_corruption()
    {
        _ns.CreateBucket("media");
        _ns.Put("media", "a/b.ts", size: 9);
        using var buffer = new MemoryStream();
        _ns.Machine.WriteSnapshot(buffer);

        using var other = new NamespaceHarness();
        other.Machine.RestoreSnapshot(new MemoryStream(buffer.ToArray()));
        Assert.Equal(_ns.Machine.AppliedIndex, other.Machine.AppliedIndex);
        Assert.Equal(9UL, other.Reader.Stat("media", "a/b.ts").Attributes.Size);

        byte[] corrupt = buffer.ToArray();
        corrupt[corrupt.Length / 2] ^= 0x40;
        using var third = new NamespaceHarness();
        Assert.Throws<CorruptionException>(() => third.Machine.RestoreSnapshot(new MemoryStream(corrupt)));
        Assert.Empty(third.Reader.ListBuckets());
        Assert.Throws<CorruptionException>(() => third.Machine.RestoreSnapshot(new MemoryStream(buffer.ToArray()[..^3])));
    }

    [Fact]
    public void A_corrupted_stored_record_is_reported_not_returned()
    {
        _ns.CreateBucket("media");
        _ns.Put("media", "a.ts", size: 5);
        ulong root = _ns.Reader.GetBucket("media").RootDirectoryId;
        byte[] key = NamespaceKeys.Entry(root, "a.ts"u8);
        byte[] stored = _ns.Engine.Get(KvColumn.Data, key)!;
        stored[^1] ^= 0x01;
        using (IKvWriteBatch batch = _ns.Engine.CreateBatch())
        {
            batch.Put(KvColumn.Data, key, stored);
            _ns.Engine.Write(batch, sync: false);
        }

        Assert.Throws<CorruptionException>(() => _ns.Reader.Stat("media", "a.ts"));
    }

    [Fact]
    public void A_far_sequence_jump_forgets_only_the_results_that_exist()
    {
        _ns.CreateBucket("media");
        for (ulong sequence = 1; sequence <= 3; sequence++)
        {
            _ns.Run(NamespaceHarness.AsClient(new Command { Put = new PutObject { Bucket = "media", Path = "a", Attributes = new() } }, 9, sequence));
        }

        CommandResult far = _ns.Run(NamespaceHarness.AsClient(new Command { Put = new PutObject { Bucket = "media", Path = "b", Attributes = new() } }, 9, 1UL << 62));

        Assert.Equal(ResultCode.ResultOk, far.Code);
        Assert.Equal(1, CountKind(NamespaceKeys.ResultKind)); // sequences 1..3 fell out of the window
        Assert.Equal(ResultCode.ResultSessionExpired,
            _ns.Run(NamespaceHarness.AsClient(new Command { Put = new PutObject { Bucket = "media", Path = "c", Attributes = new() } }, 9, 2)).Code);
    }

    [Fact]
    public void Deleting_the_current_version_by_generation_removes_it_and_restores_the_previous_one()
    {
        _ns.CreateBucket("archive", versioning: true);
        ulong v1 = _ns.Put("archive", "doc", size: 1).Entry.Generation;
        ulong v2 = _ns.Put("archive", "doc", size: 2).Entry.Generation;

        CommandResult purge = _ns.Run(new Command { Delete = new DeleteObject { Bucket = "archive", Path = "doc", Version = v2 } });

        Assert.Equal(ResultCode.ResultOk, purge.Code);
        Assert.Equal([v1], _ns.Reader.ListVersions("archive", "doc").Select(v => v.Generation));
        Assert.Equal(1UL, _ns.Reader.Stat("archive", "doc").Attributes.Size);
        Assert.Equal(ResultCode.ResultOk, _ns.Run(new Command { Delete = new DeleteObject { Bucket = "archive", Path = "doc", Version = v1 } }).Code);
        Assert.Equal(ResultCode.ResultNotFound, Assert.Throws<CommandRejectedException>(() => _ns.Reader.ListVersions("archive", "doc")).Code);
    }

    [Fact]
    public void A_guard_on_a_path_under_a_missing_directory_sees_an_absent_entry()
    {
        _ns.CreateBucket("media");
        Command Guarded(Preconditions preconditions) => new()
        {
            Transaction = new Transaction
            {
                Operations =
                {
                    new Operation { Guard = new Guard { Bucket = "media", Path = "missing/x", Preconditions = preconditions } },
                    new Operation { Put = new PutObject { Bucket = "media", Path = "missing/x", Attributes = new() } },
                },
            },
        };

        Assert.Equal(ResultCode.ResultFailedPrecondition, _ns.Run(Guarded(new Preconditions { IfGenerationMatch = 5 })).Code);
        Assert.Equal(ResultCode.ResultOk, _ns.Run(Guarded(new Preconditions { IfNoneMatch = true })).Code);
        _ns.Reader.Stat("media", "missing/x");
    }
}
