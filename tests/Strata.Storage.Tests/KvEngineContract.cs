using System.Text;

namespace Strata.Storage.Tests;

/// <summary>
/// The contract every <see cref="IKvEngine"/> must pass. Each concrete subclass supplies a fresh, empty engine per
/// test (xunit makes one instance of the class per test).
/// </summary>
public abstract class KvEngineContract : IDisposable
{
    private readonly Lock _engineLock = new();
    private IKvEngine? _engine;

    protected IKvEngine Engine
    {
        get
        {
            lock (_engineLock)
            {
                return _engine ??= CreateEngine();
            }
        }
    }

    /// <summary>Starts a thread whose exception, if any, is rethrown by <see cref="JoinAll"/> instead of killing the test host.</summary>
    protected static (Thread Thread, Func<Exception?> Error) Start(Action body)
    {
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                body();
            }
            catch (Exception e)
            {
                error = e;
            }
        });
        thread.Start();
        return (thread, () => error);
    }

    protected static void JoinAll(IEnumerable<(Thread Thread, Func<Exception?> Error)> threads)
    {
        var list = threads.ToList();
        list.ForEach(t => t.Thread.Join());
        var errors = list.Select(t => t.Error()).OfType<Exception>().ToList();
        if (errors.Count > 0)
        {
            throw new AggregateException(errors);
        }
    }

    /// <summary>A new, empty engine. Called at most once per test unless a test asks for a second one.</summary>
    protected abstract IKvEngine CreateEngine();

    public virtual void Dispose()
    {
        _engine?.Dispose();
        GC.SuppressFinalize(this);
    }

    protected static byte[] K(string text) => Encoding.UTF8.GetBytes(text);

    protected static byte[] B(params byte[] bytes) => bytes;

    protected void Put(KvColumn column, byte[] key, byte[] value, bool sync = false)
    {
        using var batch = Engine.CreateBatch();
        batch.Put(column, key, value);
        Engine.Write(batch, sync);
    }

    protected void Put(byte[] key, byte[] value) => Put(KvColumn.Data, key, value);

    protected void Delete(KvColumn column, byte[] key)
    {
        using var batch = Engine.CreateBatch();
        batch.Delete(column, key);
        Engine.Write(batch, sync: false);
    }

    protected void DeleteRange(KvColumn column, byte[] lower, byte[] upper)
    {
        using var batch = Engine.CreateBatch();
        batch.DeleteRange(column, lower, upper);
        Engine.Write(batch, sync: false);
    }

    /// <summary>Every (key, value) of the range, by walking the cursor forward (or backward from the last).</summary>
    protected static List<(byte[] Key, byte[] Value)> ScanAll(IKvReader reader, KvColumn column, byte[] lower, byte[] upper, bool backward = false)
    {
        var result = new List<(byte[], byte[])>();
        using var cursor = reader.Scan(column, lower, upper);
        if (backward)
        {
            for (cursor.SeekToLast(); cursor.Valid; cursor.Prev())
            {
                result.Add((cursor.Key.ToArray(), cursor.Value.ToArray()));
            }
        }
        else
        {
            for (cursor.SeekToFirst(); cursor.Valid; cursor.Next())
            {
                result.Add((cursor.Key.ToArray(), cursor.Value.ToArray()));
            }
        }

        return result;
    }

    protected static List<string> Keys(IKvReader reader, KvColumn column, byte[] lower, byte[] upper, bool backward = false) =>
        [.. ScanAll(reader, column, lower, upper, backward).Select(kv => Convert.ToHexString(kv.Key))];

    protected static string Hex(params byte[] bytes) => Convert.ToHexString(bytes);

    protected static string Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexString(bytes);

    /// <summary>Loads keys 0x10, 0x20, ..., 0x50 (one byte each) with value = key + 1 into Data.</summary>
    protected void LoadFive()
    {
        using var batch = Engine.CreateBatch();
        for (byte k = 0x10; k <= 0x50; k += 0x10)
        {
            batch.Put(KvColumn.Data, [k], [(byte)(k + 1)]);
        }

        Engine.Write(batch, sync: false);
    }

    // ---- point reads and writes -------------------------------------------------------------------------------

    [Fact]
    public void Get_of_a_missing_key_returns_null()
    {
        Assert.Null(Engine.Get(KvColumn.Data, K("absent")));
    }

    [Fact]
    public void Put_then_get_returns_the_value()
    {
        Put(K("a"), K("1"));
        Assert.Equal(K("1"), Engine.Get(KvColumn.Data, K("a")));
    }

    [Fact]
    public void Read_decodes_the_stored_value_in_place_and_is_null_for_a_missing_key()
    {
        Put(K("a"), K("value-1"));
        Assert.Equal("a=value-1", Engine.Read(KvColumn.Data, K("a"),
            static (key, value) => $"{System.Text.Encoding.UTF8.GetString(key)}={System.Text.Encoding.UTF8.GetString(value)}"));
        Assert.Null(Engine.Read(KvColumn.Data, K("absent"), static (_, _) => "found"));
        using IKvSnapshot snapshot = Engine.Snapshot();
        Put(K("a"), K("value-2"));
        Assert.Equal("value-1", snapshot.Read(KvColumn.Data, K("a"), static (_, value) => System.Text.Encoding.UTF8.GetString(value)));
        Assert.Equal("value-2", Engine.Read(KvColumn.Data, K("a"), static (_, value) => System.Text.Encoding.UTF8.GetString(value)));
    }

    [Fact]
    public void Put_overwrites_the_previous_value()
    {
        Put(K("a"), K("first"));
        Put(K("a"), K("2"));
        Assert.Equal(K("2"), Engine.Get(KvColumn.Data, K("a")));
        Assert.Single(ScanAll(Engine, KvColumn.Data, [], []));
    }

    [Fact]
    public void Delete_removes_the_key_and_deleting_a_missing_key_is_harmless()
    {
        Put(K("a"), K("1"));
        Put(K("b"), K("2"));
        Delete(KvColumn.Data, K("a"));
        Delete(KvColumn.Data, K("never-there"));
        Assert.Null(Engine.Get(KvColumn.Data, K("a")));
        Assert.Equal(K("2"), Engine.Get(KvColumn.Data, K("b")));
        Assert.Equal([Hex(K("b"))], Keys(Engine, KvColumn.Data, [], []));
    }

    [Fact]
    public void An_empty_value_is_stored_and_differs_from_a_missing_key()
    {
        Put(K("empty"), []);
        var value = Engine.Get(KvColumn.Data, K("empty"));
        Assert.NotNull(value);
        Assert.Empty(value);
        using var cursor = Engine.Scan(KvColumn.Data, [], []);
        cursor.SeekToFirst();
        Assert.True(cursor.Valid);
        Assert.True(cursor.Value.IsEmpty);
    }

    [Fact]
    public void The_empty_key_is_a_key_and_sorts_first()
    {
        Put([], K("root"));
        Put(B(0x00), K("zero"));
        Assert.Equal(K("root"), Engine.Get(KvColumn.Data, []));
        Assert.Equal(["", "00"], Keys(Engine, KvColumn.Data, [], []));
    }

    [Fact]
    public void A_one_mebibyte_value_round_trips()
    {
        var value = new byte[1 << 20];
        new Random(42).NextBytes(value);
        Put(KvColumn.Data, K("big"), value, sync: true);
        Assert.Equal(value, Engine.Get(KvColumn.Data, K("big")));
        var scanned = ScanAll(Engine, KvColumn.Data, [], []);
        Assert.Equal(value, Assert.Single(scanned).Value);
    }

    [Fact]
    public void Returned_arrays_belong_to_the_caller()
    {
        Put(K("a"), K("xyz"));
        var first = Engine.Get(KvColumn.Data, K("a"))!;
        first[0] = (byte)'!';
        Assert.Equal(K("xyz"), Engine.Get(KvColumn.Data, K("a")));
    }

    [Fact]
    public void Caller_buffers_can_be_reused_after_recording_in_a_batch()
    {
        var key = K("k1");
        var value = K("v1");
        using var batch = Engine.CreateBatch();
        batch.Put(KvColumn.Data, key, value);
        key[1] = (byte)'2';
        value[1] = (byte)'2';
        Engine.Write(batch, sync: false);
        Assert.Equal(K("v1"), Engine.Get(KvColumn.Data, K("k1")));
        Assert.Null(Engine.Get(KvColumn.Data, K("k2")));
    }

    [Fact]
    public void Binary_keys_with_zero_and_ff_bytes_are_distinct_and_exact()
    {
        byte[][] keys = [B(0x00), B(0x00, 0x00), B(0x00, 0xFF), B(0xFF), B(0xFF, 0x00), B(0xFF, 0xFF, 0xFF), B(0x01, 0x00, 0x02)];
        foreach (var key in keys)
        {
            Put(key, [.. key, 0xAA]);
        }

        foreach (var key in keys)
        {
            Assert.Equal([.. key, 0xAA], Engine.Get(KvColumn.Data, key));
        }

        Assert.Null(Engine.Get(KvColumn.Data, B(0x00, 0x00, 0x00)));
        Assert.Null(Engine.Get(KvColumn.Data, B(0xFF, 0xFF)));
    }

    [Fact]
    public void Keys_are_ordered_as_unsigned_bytes_with_prefixes_first()
    {
        byte[][] keys = [B(0xFF), B(0x80), B(0x7F), B(0x01), B(0x01, 0x00), B(0x00, 0xFF), B(0x00), B(0x80, 0x00), B(0x7F, 0xFF)];
        foreach (var key in keys)
        {
            Put(key, []);
        }

        var expected = keys.Select(k => Hex(k)).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["00", "00FF", "01", "0100", "7F", "7FFF", "80", "8000", "FF"], expected);
        Assert.Equal(expected, Keys(Engine, KvColumn.Data, [], []));
        expected.Reverse();
        Assert.Equal(expected, Keys(Engine, KvColumn.Data, [], [], backward: true));
    }

    [Fact]
    public void Columns_are_independent()
    {
        Put(KvColumn.Data, K("k"), K("data"));
        Put(KvColumn.RaftLog, K("k"), K("log"));
        Put(KvColumn.Local, K("k"), K("local"));
        Delete(KvColumn.RaftLog, K("k"));
        Assert.Equal(K("data"), Engine.Get(KvColumn.Data, K("k")));
        Assert.Null(Engine.Get(KvColumn.RaftLog, K("k")));
        Assert.Equal(K("local"), Engine.Get(KvColumn.Local, K("k")));
        Assert.Empty(ScanAll(Engine, KvColumn.RaftLog, [], []));
        Assert.Single(ScanAll(Engine, KvColumn.Local, [], []));
    }

    [Fact]
    public void An_unknown_column_is_rejected()
    {
        using var batch = Engine.CreateBatch();
        Assert.Throws<ArgumentOutOfRangeException>(() => batch.Put((KvColumn)7, K("a"), K("b")));
        Assert.Throws<ArgumentOutOfRangeException>(() => Engine.Get((KvColumn)7, K("a")));
    }

    // ---- scans and cursors ------------------------------------------------------------------------------------

    [Fact]
    public void Scan_lower_bound_is_inclusive_and_upper_bound_exclusive()
    {
        LoadFive();
        Assert.Equal(["20", "30", "40"], Keys(Engine, KvColumn.Data, B(0x20), B(0x50)));
        Assert.Equal(["40", "30", "20"], Keys(Engine, KvColumn.Data, B(0x20), B(0x50), backward: true));
        Assert.Equal(["20", "30", "40"], Keys(Engine, KvColumn.Data, B(0x11), B(0x41)));
    }

    [Fact]
    public void Scan_with_empty_bounds_is_unbounded()
    {
        LoadFive();
        Assert.Equal(["10", "20", "30", "40", "50"], Keys(Engine, KvColumn.Data, [], []));
        Assert.Equal(["30", "40", "50"], Keys(Engine, KvColumn.Data, B(0x30), []));
        Assert.Equal(["10", "20"], Keys(Engine, KvColumn.Data, [], B(0x30)));
        Assert.Equal(["50", "40", "30"], Keys(Engine, KvColumn.Data, B(0x30), [], backward: true));
    }

    [Fact]
    public void Scan_of_an_empty_or_inverted_range_finds_nothing()
    {
        LoadFive();
        Assert.Empty(Keys(Engine, KvColumn.Data, B(0x20), B(0x20)));
        Assert.Empty(Keys(Engine, KvColumn.Data, B(0x21), B(0x2F)));
        Assert.Empty(Keys(Engine, KvColumn.Data, B(0x40), B(0x20)));
        Assert.Empty(Keys(Engine, KvColumn.Data, B(0x40), B(0x20), backward: true));
        Assert.Empty(Keys(Engine, KvColumn.Data, B(0x51), []));
        using var cursor = Engine.Scan(KvColumn.Data, B(0x40), B(0x20));
        cursor.Seek(B(0x40));
        Assert.False(cursor.Valid);
        cursor.SeekForPrev(B(0x30));
        Assert.False(cursor.Valid);
    }

    [Fact]
    public void A_new_cursor_is_unpositioned_and_next_or_prev_without_position_throws()
    {
        LoadFive();
        using var cursor = Engine.Scan(KvColumn.Data, [], []);
        Assert.False(cursor.Valid);
        Assert.Throws<InvalidOperationException>(() => cursor.Next());
        Assert.Throws<InvalidOperationException>(() => cursor.Prev());
        cursor.SeekToLast();
        cursor.Next();
        Assert.False(cursor.Valid);
        Assert.Throws<InvalidOperationException>(() => cursor.Prev());
    }

    [Fact]
    public void Seek_lands_on_the_smallest_key_at_or_after_the_target_clamped_to_the_range()
    {
        LoadFive();
        using var cursor = Engine.Scan(KvColumn.Data, B(0x20), B(0x50));
        cursor.Seek(B(0x30));
        Assert.Equal("30", Hex(cursor.Key));
        Assert.Equal(B(0x31), cursor.Value.ToArray());
        cursor.Seek(B(0x30, 0x00));
        Assert.Equal("40", Hex(cursor.Key));
        cursor.Seek(B(0x00));
        Assert.Equal("20", Hex(cursor.Key));
        cursor.Seek([]);
        Assert.Equal("20", Hex(cursor.Key));
        cursor.Seek(B(0x41));
        Assert.False(cursor.Valid);
        cursor.Seek(B(0x50));
        Assert.False(cursor.Valid);
        cursor.Seek(B(0xFF));
        Assert.False(cursor.Valid);
    }

    [Fact]
    public void SeekForPrev_lands_on_the_largest_key_at_or_before_the_target_clamped_to_the_range()
    {
        LoadFive();
        using var cursor = Engine.Scan(KvColumn.Data, B(0x20), B(0x50));
        cursor.SeekForPrev(B(0x30));
        Assert.Equal("30", Hex(cursor.Key));
        cursor.SeekForPrev(B(0x3F, 0xFF));
        Assert.Equal("30", Hex(cursor.Key));
        cursor.SeekForPrev(B(0x50));
        Assert.Equal("40", Hex(cursor.Key));
        cursor.SeekForPrev(B(0xFF, 0xFF));
        Assert.Equal("40", Hex(cursor.Key));
        cursor.SeekForPrev(B(0x1F));
        Assert.False(cursor.Valid);
        cursor.SeekForPrev(B(0x10));
        Assert.False(cursor.Valid);
        cursor.SeekForPrev(B(0x20));
        Assert.Equal("20", Hex(cursor.Key));
    }

    [Fact]
    public void SeekForPrev_without_upper_bound_reaches_the_last_key()
    {
        LoadFive();
        using var cursor = Engine.Scan(KvColumn.Data, B(0x20), []);
        cursor.SeekForPrev(B(0xFF, 0xFF, 0xFF));
        Assert.Equal("50", Hex(cursor.Key));
        cursor.SeekToLast();
        Assert.Equal("50", Hex(cursor.Key));
    }

    [Fact]
    public void SeekToFirst_and_SeekToLast_respect_the_bounds()
    {
        LoadFive();
        using var cursor = Engine.Scan(KvColumn.Data, B(0x15), B(0x45));
        cursor.SeekToFirst();
        Assert.Equal("20", Hex(cursor.Key));
        cursor.SeekToLast();
        Assert.Equal("40", Hex(cursor.Key));
    }

    [Fact]
    public void Next_and_Prev_walk_both_ways_and_stop_at_the_bounds()
    {
        LoadFive();
        using var cursor = Engine.Scan(KvColumn.Data, B(0x20), B(0x40));
        cursor.SeekToFirst();
        Assert.Equal("20", Hex(cursor.Key));
        cursor.Next();
        Assert.Equal("30", Hex(cursor.Key));
        cursor.Prev();
        Assert.Equal("20", Hex(cursor.Key));
        cursor.Prev();
        Assert.False(cursor.Valid);
        cursor.SeekToLast();
        Assert.Equal("30", Hex(cursor.Key));
        cursor.Next();
        Assert.False(cursor.Valid);
        cursor.Seek(B(0x30));
        cursor.Prev();
        cursor.Next();
        Assert.Equal("30", Hex(cursor.Key));
    }

    [Fact]
    public void Key_and_Value_of_an_unpositioned_cursor_throw()
    {
        LoadFive();
        using var cursor = Engine.Scan(KvColumn.Data, B(0x60), []);
        cursor.SeekToFirst();
        Assert.False(cursor.Valid);
        Assert.Throws<InvalidOperationException>(() => cursor.Key.ToArray());
        Assert.Throws<InvalidOperationException>(() => cursor.Value.ToArray());
    }

    [Fact]
    public void A_cursor_over_many_keys_sees_all_of_them_in_order_both_ways()
    {
        var random = new Random(7);
        var expected = new SortedDictionary<byte[], byte[]>(KeyOrder.Comparer);
        using (var batch = Engine.CreateBatch())
        {
            for (var i = 0; i < 2000; i++)
            {
                var key = new byte[random.Next(0, 6)];
                random.NextBytes(key);
                var value = new byte[random.Next(0, 20)];
                random.NextBytes(value);
                batch.Put(KvColumn.Data, key, value);
                expected[key] = value;
            }

            Engine.Write(batch, sync: false);
        }

        var forward = ScanAll(Engine, KvColumn.Data, [], []);
        Assert.Equal(expected.Keys.Select(k => Hex(k)), forward.Select(kv => Hex(kv.Key)));
        Assert.Equal(expected.Values.Select(v => Hex(v)), forward.Select(kv => Hex(kv.Value)));
        var backward = ScanAll(Engine, KvColumn.Data, [], [], backward: true);
        Assert.Equal(expected.Keys.Reverse().Select(k => Hex(k)), backward.Select(kv => Hex(kv.Key)));
    }

    [Fact]
    public void A_cursor_is_a_consistent_view_unaffected_by_later_writes()
    {
        LoadFive();
        using var cursor = Engine.Scan(KvColumn.Data, [], []);
        Put(B(0x15), B(0x00));
        Delete(KvColumn.Data, B(0x30));
        Put(B(0x40), B(0x99));
        var seen = new List<string>();
        for (cursor.SeekToFirst(); cursor.Valid; cursor.Next())
        {
            seen.Add(Hex(cursor.Key) + "=" + Hex(cursor.Value));
        }

        Assert.Equal(["10=11", "20=21", "30=31", "40=41", "50=51"], seen);
    }

    [Fact]
    public void Scan_bounds_are_copied_so_the_caller_may_reuse_its_buffers()
    {
        LoadFive();
        var lower = B(0x20);
        var upper = B(0x40);
        using var cursor = Engine.Scan(KvColumn.Data, lower, upper);
        lower[0] = 0x00;
        upper[0] = 0xFF;
        var seen = new List<string>();
        for (cursor.SeekToFirst(); cursor.Valid; cursor.Next())
        {
            seen.Add(Hex(cursor.Key));
        }

        Assert.Equal(["20", "30"], seen);
    }

    // ---- DeleteRange --------------------------------------------------------------------------------------------

    [Fact]
    public void DeleteRange_removes_exactly_the_half_open_range_of_one_column()
    {
        LoadFive();
        Put(KvColumn.Local, B(0x30), B(0x01));
        Put(B(0x30, 0x00), B(0x01));
        DeleteRange(KvColumn.Data, B(0x20), B(0x40));
        Assert.Equal(["10", "40", "50"], Keys(Engine, KvColumn.Data, [], []));
        Assert.Equal(["50", "40", "10"], Keys(Engine, KvColumn.Data, [], [], backward: true));
        Assert.Null(Engine.Get(KvColumn.Data, B(0x30, 0x00)));
        Assert.Equal(B(0x41), Engine.Get(KvColumn.Data, B(0x40)));
        Assert.Equal(B(0x01), Engine.Get(KvColumn.Local, B(0x30)));
    }

    [Fact]
    public void DeleteRange_then_put_in_the_same_batch_keeps_the_put()
    {
        LoadFive();
        using var batch = Engine.CreateBatch();
        batch.DeleteRange(KvColumn.Data, B(0x10), B(0x60));
        batch.Put(KvColumn.Data, B(0x30), B(0x77));
        Engine.Write(batch, sync: false);
        Assert.Equal(["30"], Keys(Engine, KvColumn.Data, [], []));
        Assert.Equal(B(0x77), Engine.Get(KvColumn.Data, B(0x30)));
    }

    [Fact]
    public void DeleteRange_of_an_empty_range_deletes_nothing_and_an_inverted_one_is_rejected()
    {
        LoadFive();
        DeleteRange(KvColumn.Data, B(0x30), B(0x30));
        DeleteRange(KvColumn.Data, [], []);
        Assert.Equal(5, ScanAll(Engine, KvColumn.Data, [], []).Count);
        using var batch = Engine.CreateBatch();
        Assert.Throws<ArgumentException>(() => batch.DeleteRange(KvColumn.Data, B(0x40), B(0x30)));
        Assert.Throws<ArgumentException>(() => batch.DeleteRange(KvColumn.Data, B(0x40), []));
        Assert.Equal(0, batch.Count);
    }

    // ---- batches --------------------------------------------------------------------------------------------------

    [Fact]
    public void Nothing_in_a_batch_is_visible_before_Write()
    {
        using var batch = Engine.CreateBatch();
        batch.Put(KvColumn.Data, K("a"), K("1"));
        batch.Put(KvColumn.RaftLog, K("b"), K("2"));
        Assert.Null(Engine.Get(KvColumn.Data, K("a")));
        Assert.Empty(ScanAll(Engine, KvColumn.RaftLog, [], []));
        Engine.Write(batch, sync: true);
        Assert.Equal(K("1"), Engine.Get(KvColumn.Data, K("a")));
        Assert.Equal(K("2"), Engine.Get(KvColumn.RaftLog, K("b")));
    }

    [Fact]
    public void Operations_in_a_batch_apply_in_order()
    {
        Put(K("x"), K("old"));
        using var batch = Engine.CreateBatch();
        batch.Put(KvColumn.Data, K("a"), K("1"));
        batch.Delete(KvColumn.Data, K("a"));
        batch.Delete(KvColumn.Data, K("b"));
        batch.Put(KvColumn.Data, K("b"), K("2"));
        batch.Put(KvColumn.Data, K("x"), K("mid"));
        batch.Put(KvColumn.Data, K("x"), K("new"));
        Engine.Write(batch, sync: false);
        Assert.Null(Engine.Get(KvColumn.Data, K("a")));
        Assert.Equal(K("2"), Engine.Get(KvColumn.Data, K("b")));
        Assert.Equal(K("new"), Engine.Get(KvColumn.Data, K("x")));
    }

    [Fact]
    public void Count_Clear_and_reuse_of_a_batch()
    {
        using var batch = Engine.CreateBatch();
        Assert.Equal(0, batch.Count);
        batch.Put(KvColumn.Data, K("a"), K("1"));
        batch.Delete(KvColumn.Data, K("b"));
        batch.DeleteRange(KvColumn.Data, K("c"), K("d"));
        Assert.Equal(3, batch.Count);
        batch.Clear();
        Assert.Equal(0, batch.Count);
        Engine.Write(batch, sync: false);
        Assert.Null(Engine.Get(KvColumn.Data, K("a")));

        batch.Put(KvColumn.Data, K("b"), K("2"));
        Engine.Write(batch, sync: true);
        batch.Clear();
        batch.Put(KvColumn.Data, K("c"), K("3"));
        Engine.Write(batch, sync: false);
        Assert.Equal(["b", "c"], ScanAll(Engine, KvColumn.Data, [], []).Select(kv => Encoding.UTF8.GetString(kv.Key)));
    }

    [Fact]
    public void Writing_an_empty_batch_is_harmless_with_or_without_sync()
    {
        Put(K("a"), K("1"));
        using var batch = Engine.CreateBatch();
        Engine.Write(batch, sync: false);
        Engine.Write(batch, sync: true);
        Assert.Equal(K("1"), Engine.Get(KvColumn.Data, K("a")));
    }

    [Fact]
    public void A_batch_from_another_engine_is_rejected()
    {
        using var other = CreateEngine();
        using var batch = other.CreateBatch();
        batch.Put(KvColumn.Data, K("a"), K("1"));
        Assert.Throws<ArgumentException>(() => Engine.Write(batch, sync: false));
        Assert.Null(Engine.Get(KvColumn.Data, K("a")));
    }

    [Fact]
    public void A_disposed_batch_cannot_be_used()
    {
        var batch = Engine.CreateBatch();
        batch.Put(KvColumn.Data, K("a"), K("1"));
        batch.Dispose();
        batch.Dispose();
        Assert.Throws<ObjectDisposedException>(() => batch.Put(KvColumn.Data, K("b"), K("2")));
        Assert.Throws<ObjectDisposedException>(() => Engine.Write(batch, sync: false));
        Assert.Null(Engine.Get(KvColumn.Data, K("a")));
    }

    [Fact]
    public void Readers_never_observe_part_of_a_batch()
    {
        // Every batch sets the same counter under three keys in two columns; a reader must always see them equal.
        const int Batches = 300;
        Put(KvColumn.Data, K("c1"), BitConverter.GetBytes(0));
        Put(KvColumn.Data, K("c2"), BitConverter.GetBytes(0));
        Put(KvColumn.Local, K("c3"), BitConverter.GetBytes(0));
        var mismatches = 0;
        var reads = 0;
        using var done = new ManualResetEventSlim();
        using var reading = new ManualResetEventSlim();
        var reader = Start(() =>
        {
            try
            {
                // The writer starts only after a first read, so at least one read happens however threads are scheduled.
                do
                {
                    using var snapshot = Engine.Snapshot();
                    var a = BitConverter.ToInt32(snapshot.Get(KvColumn.Data, K("c1")));
                    var b = BitConverter.ToInt32(snapshot.Get(KvColumn.Data, K("c2")));
                    var c = BitConverter.ToInt32(snapshot.Get(KvColumn.Local, K("c3")));
                    var scanned = ScanAll(snapshot, KvColumn.Data, K("c"), K("d")).Select(kv => BitConverter.ToInt32(kv.Value)).ToList();
                    if (a != b || b != c || scanned.Count != 2 || scanned[0] != a || scanned[1] != a)
                    {
                        Interlocked.Increment(ref mismatches);
                    }

                    Interlocked.Increment(ref reads);
                    reading.Set();
                }
                while (!done.IsSet);
            }
            finally
            {
                reading.Set();
            }
        });
        reading.Wait();
        using (var batch = Engine.CreateBatch())
        {
            for (var i = 1; i <= Batches; i++)
            {
                batch.Clear();
                batch.Put(KvColumn.Data, K("c1"), BitConverter.GetBytes(i));
                batch.Put(KvColumn.Local, K("c3"), BitConverter.GetBytes(i));
                batch.Put(KvColumn.Data, K("c2"), BitConverter.GetBytes(i));
                Engine.Write(batch, sync: false);
            }
        }

        done.Set();
        JoinAll([reader]);
        Assert.Equal(0, mismatches);
        Assert.True(reads >= 1);
        Assert.Equal(BitConverter.GetBytes(Batches), Engine.Get(KvColumn.Local, K("c3")));
    }

    // ---- snapshots ------------------------------------------------------------------------------------------------

    [Fact]
    public void A_snapshot_does_not_see_later_writes_deletes_or_range_deletes()
    {
        LoadFive();
        using var snapshot = Engine.Snapshot();
        Put(B(0x10), B(0xEE));
        Put(B(0x25), B(0xEE));
        Delete(KvColumn.Data, B(0x20));
        DeleteRange(KvColumn.Data, B(0x40), B(0x60));
        Put(KvColumn.Local, B(0x01), B(0x01));

        Assert.Equal(B(0x11), snapshot.Get(KvColumn.Data, B(0x10)));
        Assert.Equal(B(0x21), snapshot.Get(KvColumn.Data, B(0x20)));
        Assert.Null(snapshot.Get(KvColumn.Data, B(0x25)));
        Assert.Equal(B(0x51), snapshot.Get(KvColumn.Data, B(0x50)));
        Assert.Null(snapshot.Get(KvColumn.Local, B(0x01)));
        Assert.Equal(["10", "20", "30", "40", "50"], Keys(snapshot, KvColumn.Data, [], []));
        Assert.Equal(["50", "40", "30"], Keys(snapshot, KvColumn.Data, B(0x30), [], backward: true));
        Assert.Empty(ScanAll(snapshot, KvColumn.Local, [], []));

        Assert.Equal(["10", "25", "30"], Keys(Engine, KvColumn.Data, [], []));
        using var later = Engine.Snapshot();
        Assert.Equal(["10", "25", "30"], Keys(later, KvColumn.Data, [], []));
    }

    [Fact]
    public void A_cursor_from_a_snapshot_stays_consistent_after_the_snapshot_is_disposed()
    {
        LoadFive();
        var snapshot = Engine.Snapshot();
        using var cursor = snapshot.Scan(KvColumn.Data, [], []);
        Put(B(0x15), B(0x00));
        snapshot.Dispose();
        Put(B(0x35), B(0x00));
        var seen = new List<string>();
        for (cursor.SeekToFirst(); cursor.Valid; cursor.Next())
        {
            seen.Add(Hex(cursor.Key));
        }

        Assert.Equal(["10", "20", "30", "40", "50"], seen);
    }

    [Fact]
    public void A_disposed_snapshot_cannot_be_read()
    {
        var snapshot = Engine.Snapshot();
        snapshot.Dispose();
        snapshot.Dispose();
        Assert.Throws<ObjectDisposedException>(() => snapshot.Get(KvColumn.Data, K("a")));
        Assert.Throws<ObjectDisposedException>(() => snapshot.Scan(KvColumn.Data, [], []));
    }

    // ---- concurrency ----------------------------------------------------------------------------------------------

    [Fact]
    public void Concurrent_writers_and_readers_end_in_the_union_of_all_writes()
    {
        const int Writers = 3;
        const int PerWriter = 200;
        var failures = 0;
        using var done = new ManualResetEventSlim();
        var readers = Enumerable.Range(0, 2).Select(r => Start(() =>
        {
            while (!done.IsSet)
            {
                // Every scan is sorted and every value matches its key, whatever is being written meanwhile.
                byte[]? previous = null;
                foreach (var (key, value) in ScanAll(Engine, KvColumn.Data, [], []))
                {
                    if ((previous is not null && KeyOrder.Compare(previous, key) >= 0) || !value.AsSpan().SequenceEqual(key))
                    {
                        Interlocked.Increment(ref failures);
                    }

                    previous = key;
                }

                if (Engine.Get(KvColumn.Data, K("w0-0")) is { } v && !v.AsSpan().SequenceEqual(K("w0-0")))
                {
                    Interlocked.Increment(ref failures);
                }
            }
        })).ToList();
        var writers = Enumerable.Range(0, Writers).Select(w => Start(() =>
        {
            using var batch = Engine.CreateBatch();
            for (var i = 0; i < PerWriter; i++)
            {
                batch.Clear();
                var key = K($"w{w}-{i}");
                batch.Put(KvColumn.Data, key, key);
                Engine.Write(batch, sync: i % 50 == 0);
            }
        })).ToList();
        try
        {
            JoinAll(writers);
        }
        finally
        {
            done.Set();
            JoinAll(readers);
        }

        Assert.Equal(0, failures);
        var all = ScanAll(Engine, KvColumn.Data, [], []);
        Assert.Equal(Writers * PerWriter, all.Count);
        var expected = Enumerable.Range(0, Writers).SelectMany(w => Enumerable.Range(0, PerWriter).Select(i => $"w{w}-{i}")).Order(StringComparer.Ordinal);
        Assert.Equal(expected, all.Select(kv => Encoding.UTF8.GetString(kv.Key)));
    }

    // ---- disposal -------------------------------------------------------------------------------------------------

    [Fact]
    public void Dispose_is_idempotent_and_every_later_call_throws_ObjectDisposedException()
    {
        Put(K("a"), K("1"));
        var batch = Engine.CreateBatch();
        batch.Put(KvColumn.Data, K("b"), K("2"));
        var snapshot = Engine.Snapshot();
        var cursor = Engine.Scan(KvColumn.Data, [], []);
        cursor.SeekToFirst();
        Assert.True(cursor.Valid);

        Engine.Dispose();
        Engine.Dispose();

        Assert.Throws<ObjectDisposedException>(() => Engine.Get(KvColumn.Data, K("a")));
        Assert.Throws<ObjectDisposedException>(() => Engine.Scan(KvColumn.Data, [], []));
        Assert.Throws<ObjectDisposedException>(() => Engine.CreateBatch());
        Assert.Throws<ObjectDisposedException>(() => Engine.Snapshot());
        Assert.Throws<ObjectDisposedException>(() => Engine.Write(batch, sync: true));
        Assert.Throws<ObjectDisposedException>(() => batch.Put(KvColumn.Data, K("c"), K("3")));
        Assert.Throws<ObjectDisposedException>(() => snapshot.Get(KvColumn.Data, K("a")));
        Assert.Throws<ObjectDisposedException>(() => cursor.SeekToFirst());
        Assert.Throws<ObjectDisposedException>(() => cursor.Valid);

        // Disposing the children after the engine is harmless.
        cursor.Dispose();
        snapshot.Dispose();
        batch.Dispose();
    }

    [Fact]
    public void Disposed_cursors_throw_ObjectDisposedException()
    {
        LoadFive();
        var cursor = Engine.Scan(KvColumn.Data, [], []);
        cursor.SeekToFirst();
        cursor.Dispose();
        cursor.Dispose();
        Assert.Throws<ObjectDisposedException>(() => cursor.Valid);
        Assert.Throws<ObjectDisposedException>(() => cursor.Seek(B(0x20)));
        Assert.Throws<ObjectDisposedException>(() => cursor.Key.ToArray());
    }
}
