using Strata.Cli.Cluster;

namespace Strata.Cli.Tests;

/// <summary>The seeded bit flip the disk-fault tests and the chaos <c>flip</c> fault share: what it picks and how it undoes.</summary>
public sealed class BitFlipTests : IDisposable
{
    private readonly DirectoryInfo _data = Directory.CreateTempSubdirectory("strata-bitflip-");

    public void Dispose() => _data.Delete(recursive: true);

    [Fact]
    public void Only_checksummed_files_are_picked_the_same_way_for_the_same_seed()
    {
        Write("000012.sst", 4096);
        Write("000013.log", 2048);
        Write("MANIFEST-000005", 512);
        Write("LOG", 8192);
        Write("OPTIONS-000007", 1024);
        Write("CURRENT", 16);
        Write("000014.sst", 0); // empty: nothing to flip

        var picked = new HashSet<string>();
        for (int seed = 0; seed < 200; seed++)
        {
            BitFlip flip = BitFlip.Choose(_data.FullName, new Random(seed))!;
            Assert.Equal(flip, BitFlip.Choose(_data.FullName, new Random(seed)));
            Assert.InRange(flip.Offset, 0, new FileInfo(Path.Combine(_data.FullName, flip.File)).Length - 1);
            Assert.InRange(flip.Bit, 0, 7);
            picked.Add(flip.File);
        }

        Assert.Equal(["000012.sst", "000013.log", "MANIFEST-000005"], picked.Order(StringComparer.Ordinal));

        // Tables only: what a running node reads again.
        Assert.All(Enumerable.Range(0, 50), seed => Assert.Equal("000012.sst", BitFlip.Choose(_data.FullName, new Random(seed), tablesOnly: true)!.File));
    }

    [Fact]
    public void A_flip_changes_exactly_one_bit_and_a_second_flip_restores_the_file()
    {
        byte[] original = Write("000012.sst", 4096);
        BitFlip flip = BitFlip.Choose(_data.FullName, new Random(7))!;
        string path = Path.Combine(_data.FullName, flip.File);

        Assert.True(flip.Apply(_data.FullName));
        byte[] flipped = File.ReadAllBytes(path);
        int[] changed = [.. Enumerable.Range(0, original.Length).Where(i => original[i] != flipped[i])];
        Assert.Equal([(int)flip.Offset], changed);
        Assert.Equal(1 << flip.Bit, original[flip.Offset] ^ flipped[flip.Offset]);
        Assert.Equal("SST", flip.FileKind);

        Assert.True(flip.Apply(_data.FullName));
        Assert.Equal(original, File.ReadAllBytes(path));
    }

    [Fact]
    public void A_missing_or_shortened_file_and_an_empty_directory_are_said_so_and_nothing_changes()
    {
        Assert.Null(BitFlip.Choose(_data.FullName, new Random(1)));
        Assert.False(new BitFlip("000099.sst", 10, 3).Apply(_data.FullName));
        byte[] shortFile = Write("000012.sst", 8);
        Assert.False(new BitFlip("000012.sst", 8, 0).Apply(_data.FullName));
        Assert.Equal(shortFile, File.ReadAllBytes(Path.Combine(_data.FullName, "000012.sst")));
        Assert.Equal("000012.sst@8 bit 0", new BitFlip("000012.sst", 8, 0).ToString());
        Assert.Equal("WAL", new BitFlip("000004.log", 0, 0).FileKind);
        Assert.Equal("MANIFEST", new BitFlip("MANIFEST-000001", 0, 0).FileKind);
    }

    private byte[] Write(string name, int length)
    {
        byte[] bytes = new byte[length];
        new Random(length).NextBytes(bytes);
        File.WriteAllBytes(Path.Combine(_data.FullName, name), bytes);
        return bytes;
    }
}
