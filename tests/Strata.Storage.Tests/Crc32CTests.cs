using System.Text;

namespace Strata.Storage.Tests;

public sealed class Crc32CTests
{
    public static TheoryData<string, uint> Vectors => new()
    {
        // The standard check value, and the vectors of RFC 3720 (iSCSI), appendix B.4.
        { Convert.ToHexString(Encoding.ASCII.GetBytes("123456789")), 0xE3069283 },
        { "", 0x00000000 },
        { new string('0', 64), 0x8A9136AA },
        { new string('F', 64), 0x62A8AB43 },
        { Convert.ToHexString([.. Enumerable.Range(0, 32).Select(i => (byte)i)]), 0x46DD794E },
        { Convert.ToHexString([.. Enumerable.Range(0, 32).Select(i => (byte)(31 - i))]), 0x113FDB5C },
        {
            "01C00000000000000000000000000000" + "14000000000004000000001400000018" + "28000000000000000200000000000000",
            0xD9963A56
        },
    };

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Known_vectors(string hex, uint expected)
    {
        var data = Convert.FromHexString(hex);
        Assert.Equal(expected, Crc32C.Compute(data));
        Assert.Equal(expected, Crc32C.ComputeWithTable(data));
    }

    [Fact]
    public void Hardware_and_table_paths_agree_on_every_length_and_alignment()
    {
        var random = new Random(3720);
        var buffer = new byte[300];
        random.NextBytes(buffer);
        for (var offset = 0; offset < 9; offset++)
        {
            for (var length = 0; length + offset <= buffer.Length; length += 7)
            {
                var slice = buffer.AsSpan(offset, length);
                Assert.Equal(Crc32C.ComputeWithTable(slice), Crc32C.Compute(slice));
            }
        }
    }

    [Fact]
    public void Appending_equals_computing_over_the_concatenation()
    {
        var random = new Random(11);
        for (var round = 0; round < 200; round++)
        {
            var data = new byte[random.Next(0, 100)];
            random.NextBytes(data);
            var cut = random.Next(0, data.Length + 1);
            var whole = Crc32C.Compute(data);
            Assert.Equal(whole, Crc32C.Append(Crc32C.Compute(data.AsSpan(0, cut)), data.AsSpan(cut)));

            var incremental = new Crc32C();
            incremental.Append(data.AsSpan(0, cut));
            incremental.Append(data.AsSpan(cut));
            Assert.Equal(whole, incremental.Result);
        }
    }

    [Fact]
    public void A_new_or_reset_instance_is_the_checksum_of_nothing()
    {
        var crc = new Crc32C();
        Assert.Equal(0u, crc.Result);
        crc.Append("123456789"u8);
        Assert.Equal(0xE3069283, crc.Result);
        crc.Reset();
        Assert.Equal(0u, crc.Result);
    }

    [Fact]
    public void Every_single_bit_flip_changes_the_checksum()
    {
        var data = Encoding.ASCII.GetBytes("strata metadata record payload");
        var original = Crc32C.Compute(data);
        for (var bit = 0; bit < data.Length * 8; bit++)
        {
            data[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.NotEqual(original, Crc32C.Compute(data));
            data[bit / 8] ^= (byte)(1 << (bit % 8));
        }
    }
}
