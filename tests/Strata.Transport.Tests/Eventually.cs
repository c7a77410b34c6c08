using System.Diagnostics;

namespace Strata.Transport.Tests;

/// <summary>
/// Waits for a condition that real sockets make true "soon" — never asserts on how soon: the generous limit exists
/// only so a broken build fails with a message instead of hanging.
/// </summary>
internal static class Eventually
{
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    public static async Task Until(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > Limit)
            {
                Assert.Fail($"not reached within {Limit.TotalSeconds} s: {what}");
            }

            await Task.Delay(5);
        }
    }

    public static async Task Until(Func<Task<bool>> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > Limit)
            {
                Assert.Fail($"not reached within {Limit.TotalSeconds} s: {what}");
            }

            await Task.Delay(5);
        }
    }

    /// <summary>Takes <paramref name="count"/> frames from <paramref name="transport"/>, in arrival order.</summary>
    public static async Task<List<byte[]>> Receive(TcpTransport transport, int count, string what)
    {
        var frames = new List<byte[]>();
        await Until(
            () =>
            {
                while (frames.Count < count && transport.TryReceive(out var frame))
                {
                    frames.Add(frame.ToArray());
                }

                return frames.Count >= count;
            },
            $"{count} frames at node {transport.LocalNode} ({what}); got {frames.Count}");
        return frames;
    }
}
