namespace Strata.Storage.Tests;

/// <summary>A fresh directory under the system temp folder, deleted (recursively) on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    private static int _counter;

    public TempDirectory()
    {
        Path = System.IO.Path.Combine(
            System.IO.Path.GetTempPath(),
            $"strata-storage-tests-{Environment.ProcessId}-{Interlocked.Increment(ref _counter)}");
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }

        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
