namespace Strata.Client.Tests;

public sealed class SequenceWindowTests
{
    [Fact]
    public async Task Sequences_count_up_from_one()
    {
        var window = new SequenceWindow(10);

        Assert.Equal(1UL, await window.EnterAsync(CancellationToken.None));
        Assert.Equal(2UL, await window.EnterAsync(CancellationToken.None));
        window.Exit(1);
        Assert.Equal(3UL, await window.EnterAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_new_sequence_waits_until_the_oldest_in_flight_finishes()
    {
        var window = new SequenceWindow(3);
        ulong[] first = [await window.EnterAsync(CancellationToken.None), await window.EnterAsync(CancellationToken.None), await window.EnterAsync(CancellationToken.None)];

        ValueTask<ulong> fourth = window.EnterAsync(CancellationToken.None);
        Assert.False(fourth.IsCompleted);

        window.Exit(first[1]); // not the oldest: 4 would still be 3 ahead of 1
        Assert.False(fourth.IsCompleted);

        window.Exit(first[0]); // now the oldest is 3, and 4 is within 3 of it
        Assert.Equal(4UL, await fourth);
        Assert.Equal(5UL, await window.EnterAsync(CancellationToken.None));

        ValueTask<ulong> sixth = window.EnterAsync(CancellationToken.None);
        Assert.False(sixth.IsCompleted);
        window.Exit(3);
        Assert.Equal(6UL, await sixth);
    }

    [Fact]
    public async Task Waiting_for_a_slot_can_be_cancelled()
    {
        var window = new SequenceWindow(1);
        await window.EnterAsync(CancellationToken.None);
        using var cancel = new CancellationTokenSource();

        ValueTask<ulong> waiting = window.EnterAsync(cancel.Token);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await waiting);
    }

    [Fact]
    public void Exiting_a_sequence_that_is_not_in_flight_is_a_bug()
    {
        var window = new SequenceWindow(4);

        Assert.Throws<InvalidOperationException>(() => window.Exit(1));
    }

    [Fact]
    public async Task Random_workload_blocks_exactly_when_a_new_sequence_would_leave_the_window()
    {
        const ulong size = 8;
        var window = new SequenceWindow(size);
        var inFlight = new SortedSet<ulong>();
        var random = new Random(11);
        ulong last = 0;
        for (int step = 0; step < 2000; step++)
        {
            if (inFlight.Count > 0 && random.Next(3) == 0)
            {
                ulong done = inFlight.ElementAt(random.Next(inFlight.Count));
                window.Exit(done);
                inFlight.Remove(done);
                continue;
            }

            ulong next = last + 1;
            ValueTask<ulong> entered = window.EnterAsync(CancellationToken.None);
            if (inFlight.Count > 0 && next - inFlight.Min >= size)
            {
                Assert.False(entered.IsCompleted, $"{next} entered while {inFlight.Min} is in flight");
                while (inFlight.Count > 0 && next - inFlight.Min >= size)
                {
                    window.Exit(inFlight.Min);
                    inFlight.Remove(inFlight.Min);
                }
            }
            else
            {
                Assert.True(entered.IsCompleted, $"{next} waited although it fits the window");
            }

            last = await entered;
            Assert.Equal(next, last);
            inFlight.Add(last);
        }
    }

    [Fact]
    public async Task A_client_limits_mutations_in_flight_to_its_window()
    {
        var invoker = new ScriptedInvoker { Otherwise = () => new Api.V1.EntryResponse() };
        using var client = new StrataClient(invoker, new StrataClientOptions { MutationWindow = 4, Time = new ManualTime() });

        await Task.WhenAll(Enumerable.Range(0, 50).Select(i => client.MakeDirectoryAsync("b", $"d{i}")));

        Assert.Equal(50, invoker.Calls.Count);
    }
}
