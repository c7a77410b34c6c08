using Xunit.Abstractions;

namespace Strata.Storage.Tests;

public sealed class OrderedKeyTests(ITestOutputHelper output)
{
    /// <summary>One key tuple as the namespace might use it: kind, name, signed field, version (newest first), tail.</summary>
    private sealed record Tuple(byte Kind, byte[] Name, long Signed, ulong Version, uint Small, byte[] Tail)
    {
        public byte[] Encode()
        {
            using var writer = new OrderedKeyWriter(stackalloc byte[16]);
            writer.WriteByte(Kind);
            writer.WriteEscaped(Name);
            writer.WriteInt64(Signed);
            writer.WriteUInt64Descending(Version);
            writer.WriteUInt32(Small);
            writer.WriteRaw(Tail);
            return writer.ToArray();
        }

        public static Tuple Decode(byte[] key)
        {
            var reader = new OrderedKeyReader(key);
            var tuple = new Tuple(reader.ReadByte(), reader.ReadEscaped(), reader.ReadInt64(), reader.ReadUInt64Descending(), reader.ReadUInt32(), reader.ReadRemaining().ToArray());
            Assert.True(reader.End);
            return tuple;
        }

        /// <summary>The order the encoding must preserve, written out component by component.</summary>
        public static int CompareTuples(Tuple a, Tuple b)
        {
            var c = a.Kind.CompareTo(b.Kind);
            if (c == 0)
            {
                c = KeyOrder.Compare(a.Name, b.Name);
            }

            if (c == 0)
            {
                c = a.Signed.CompareTo(b.Signed);
            }

            if (c == 0)
            {
                c = b.Version.CompareTo(a.Version);
            }

            if (c == 0)
            {
                c = a.Small.CompareTo(b.Small);
            }

            return c == 0 ? KeyOrder.Compare(a.Tail, b.Tail) : c;
        }

        public override string ToString() =>
            $"({Kind}, {Convert.ToHexString(Name)}, {Signed}, {Version}, {Small}, {Convert.ToHexString(Tail)})";
    }

    private static Tuple RandomTuple(Random random)
    {
        // Tiny alphabets so that many pairs tie on early components and the later ones get compared.
        byte[] alphabet = [0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF];
        byte[] Bytes(int max) => [.. Enumerable.Range(0, random.Next(0, max + 1)).Select(_ => alphabet[random.Next(alphabet.Length)])];
        long[] signed = [long.MinValue, -2, -1, 0, 1, 255, 256, long.MaxValue];
        ulong[] unsigned = [0, 1, 2, 0xFF, 0x100, ulong.MaxValue - 1, ulong.MaxValue];
        return new Tuple(
            (byte)random.Next(0, 3),
            Bytes(4),
            random.Next(4) == 0 ? random.NextInt64(long.MinValue, long.MaxValue) : signed[random.Next(signed.Length)],
            unsigned[random.Next(unsigned.Length)],
            (uint)random.Next(0, 3) * 0x7FFF_FFFFu,
            Bytes(3));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Encoded_order_equals_tuple_order_and_keys_decode_back(int seed)
    {
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var tuples = Enumerable.Range(0, 400).Select(_ => RandomTuple(random)).ToList();
        var encoded = tuples.Select(t => t.Encode()).ToList();
        for (var i = 0; i < tuples.Count; i++)
        {
            Assert.Equal(tuples[i].ToString(), Tuple.Decode(encoded[i]).ToString());
            for (var j = 0; j < tuples.Count; j++)
            {
                var expected = Math.Sign(Tuple.CompareTuples(tuples[i], tuples[j]));
                var actual = Math.Sign(KeyOrder.Compare(encoded[i], encoded[j]));
                if (expected != actual)
                {
                    Assert.Fail($"seed {seed}: {tuples[i]} vs {tuples[j]} should compare {expected}, encodings compare {actual}: {Convert.ToHexString(encoded[i])} vs {Convert.ToHexString(encoded[j])}");
                }
            }
        }
    }

    [Fact]
    public void Component_encodings_are_the_documented_bytes()
    {
        using var writer = new OrderedKeyWriter(stackalloc byte[64]);
        writer.WriteUInt64(0x0102030405060708);
        Assert.Equal("0102030405060708", Convert.ToHexString(writer.Written));
        writer.Clear();
        writer.WriteUInt64Descending(0);
        Assert.Equal("FFFFFFFFFFFFFFFF", Convert.ToHexString(writer.Written));
        writer.Clear();
        writer.WriteInt64(-1);
        writer.WriteInt64(0);
        Assert.Equal("7FFFFFFFFFFFFFFF" + "8000000000000000", Convert.ToHexString(writer.Written));
        writer.Clear();
        writer.WriteEscaped([]);
        writer.WriteEscaped([0x00]);
        writer.WriteEscaped([0x61, 0x00, 0x00, 0x62, 0xFF]);
        Assert.Equal("0001" + "00FF0001" + "6100FF00FF62FF0001", Convert.ToHexString(writer.Written));
        Assert.Equal(writer.Length, OrderedKey.EscapedLength([]) + OrderedKey.EscapedLength([0x00]) + OrderedKey.EscapedLength([0x61, 0x00, 0x00, 0x62, 0xFF]));
    }

    [Fact]
    public void Signed_and_descending_integers_sort_as_documented()
    {
        long[] signed = [long.MinValue, -1000, -1, 0, 1, 1000, long.MaxValue];
        var keys = signed.Select(v =>
        {
            using var w = new OrderedKeyWriter(8);
            w.WriteInt64(v);
            return w.ToArray();
        }).ToList();
        Assert.Equal(keys, keys.Order(KeyOrder.Comparer));

        ulong[] versions = [ulong.MaxValue, 1000, 1, 0];
        var descending = versions.Select(v =>
        {
            using var w = new OrderedKeyWriter(8);
            w.WriteUInt64Descending(v);
            return w.ToArray();
        }).ToList();
        Assert.Equal(descending, descending.Order(KeyOrder.Comparer));
    }

    [Fact]
    public void The_writer_grows_beyond_its_initial_buffer()
    {
        using var writer = new OrderedKeyWriter(stackalloc byte[4]);
        var expected = new List<byte>();
        for (var i = 0; i < 100; i++)
        {
            writer.WriteByte((byte)i);
            expected.Add((byte)i);
        }

        writer.WriteEscaped(new byte[300]);
        Assert.Equal(100 + 602, writer.Length);
        Assert.Equal(expected, writer.Written[..100].ToArray());

        using var pooled = new OrderedKeyWriter(1);
        pooled.WriteUInt64(7);
        pooled.WriteUInt64(8);
        pooled.WriteUInt64(9);
        var reader = new OrderedKeyReader(pooled.Written);
        Assert.Equal(7ul, reader.ReadUInt64());
        Assert.Equal(8ul, reader.ReadUInt64());
        Assert.Equal(9ul, reader.ReadUInt64());
    }

    [Fact]
    public void The_reader_skips_escaped_components_and_exposes_what_remains()
    {
        using var writer = new OrderedKeyWriter(32);
        writer.WriteEscaped([0x00, 0x01]);
        writer.WriteRaw([0xAB, 0xCD]);
        var bytes = writer.ToArray();
        var reader = new OrderedKeyReader(bytes);
        reader.SkipEscaped();
        Assert.Equal(5, reader.Position);
        Assert.Equal("ABCD", Convert.ToHexString(reader.Remaining));
        Assert.Equal("AB", Convert.ToHexString(reader.ReadRaw(1)));
        Assert.False(reader.End);
    }

    [Theory]
    [InlineData("01020304050607")]
    [InlineData("6162")]
    [InlineData("616200")]
    [InlineData("61620002")]
    public void Malformed_keys_throw_CorruptionException(string hex)
    {
        var bytes = Convert.FromHexString(hex);
        var error = Assert.Throws<CorruptionException>(() =>
        {
            var reader = new OrderedKeyReader(bytes);
            if (bytes.Length == 7)
            {
                reader.ReadUInt64();
            }
            else
            {
                reader.ReadEscaped();
            }
        });
        Assert.Contains(hex, error.Message);
    }

    [Theory]
    [InlineData("", "")]
    [InlineData("FF", "")]
    [InlineData("FFFF", "")]
    [InlineData("00", "01")]
    [InlineData("0102", "0103")]
    [InlineData("01FF", "02")]
    [InlineData("01FEFF", "01FF")]
    public void PrefixEnd_examples(string prefix, string expected)
    {
        Assert.Equal(expected, Convert.ToHexString(OrderedKey.PrefixEnd(Convert.FromHexString(prefix))));
    }

    [Fact]
    public void PrefixEnd_is_the_smallest_key_above_every_key_with_the_prefix()
    {
        var random = new Random(99);
        byte[] alphabet = [0x00, 0x01, 0xFE, 0xFF];
        byte[] Bytes(int max) => [.. Enumerable.Range(0, random.Next(0, max + 1)).Select(_ => alphabet[random.Next(alphabet.Length)])];
        for (var round = 0; round < 3000; round++)
        {
            var prefix = Bytes(3);
            var key = Bytes(5);
            var end = OrderedKey.PrefixEnd(prefix);
            var hasPrefix = key.AsSpan().StartsWith(prefix);
            var belowEnd = end.Length == 0 || KeyOrder.Compare(key, end) < 0;
            var atOrAbovePrefix = KeyOrder.Compare(key, prefix) >= 0;
            // Inside [prefix, end) exactly when the key starts with the prefix.
            Assert.True(hasPrefix == (atOrAbovePrefix && belowEnd), $"prefix {Convert.ToHexString(prefix)} key {Convert.ToHexString(key)} end {Convert.ToHexString(end)}");
        }
    }

    [Fact]
    public void A_prefix_scan_with_PrefixEnd_finds_exactly_the_prefixed_keys()
    {
        using var engine = new InMemoryKvEngine();
        using var batch = engine.CreateBatch();
        byte[][] keys = [[0x01, 0xFE], [0x01, 0xFF], [0x01, 0xFF, 0x00], [0x01, 0xFF, 0xFF], [0x02], [0x02, 0x00]];
        foreach (var key in keys)
        {
            batch.Put(KvColumn.Data, key, []);
        }

        engine.Write(batch, sync: false);
        byte[] prefix = [0x01, 0xFF];
        using var cursor = engine.Scan(KvColumn.Data, prefix, OrderedKey.PrefixEnd(prefix));
        var found = new List<string>();
        for (cursor.SeekToFirst(); cursor.Valid; cursor.Next())
        {
            found.Add(Convert.ToHexString(cursor.Key));
        }

        Assert.Equal(["01FF", "01FF00", "01FFFF"], found);
    }
}
