using System.Diagnostics;
using System.Globalization;
using Grpc.Core;
using Spectre.Console;
using Strata.Api.V1;
using Strata.Cli.Output;
using Strata.Client;

namespace Strata.Cli.Demo;

/// <summary>
/// The four things the demo shows on the sample namespace, each under its own heading: an O(1) rename of a
/// large directory, a paginated listing by upload time, an optimistic-concurrency conflict, and a transaction
/// whose guard fails and changes nothing. Every claim printed is checked against the node; a check that does
/// not hold throws, so the demo cannot report something that did not happen.
/// </summary>
/// <remarks><paramref name="connectWriter"/> opens an independent client (scene 3 races two of them), to the same
/// node or cluster as <paramref name="client"/>; the scenes dispose what it returns.</remarks>
internal sealed class DemoScenes(StrataClient client, Func<StrataClient> connectWriter, IAnsiConsole console, CancellationToken cancellationToken)
{
    public const string RenameHeading = "1. Atomic rename of a directory holding 2,000 segments";
    public const string ByTimeHeading = "2. Newest uploads first: a paginated listing by upload time";
    public const string ConflictHeading = "3. Optimistic concurrency: two writers, one generation";
    public const string TransactionHeading = "4. A transaction whose guard fails changes nothing";

    private const string Bucket = SampleMedia.Bucket;

    public async Task RunAsync()
    {
        await RenameAsync().ConfigureAwait(false);
        await ListByTimeAsync().ConfigureAwait(false);
        await ConflictAsync().ConfigureAwait(false);
        await FailedTransactionAsync().ConfigureAwait(false);
    }

    private async Task RenameAsync()
    {
        Heading(RenameHeading);
        const string child = "segments/seg-01234.ts";
        Entry directoryBefore = await client.StatAsync(Bucket, SampleMedia.DraftVideo, cancellationToken: cancellationToken).ConfigureAwait(false);
        Entry childBefore = await client.StatAsync(Bucket, $"{SampleMedia.DraftVideo}/{child}", cancellationToken: cancellationToken).ConfigureAwait(false);
        Say($"Publishing the draft: [bold]mv {Bucket} {SampleMedia.DraftVideo} {SampleMedia.PublishedVideo}[/]");
        Say($"Its [bold]segments/[/] directory holds {SampleMedia.LargeSegmentCount:N0} segments.");

        long started = Stopwatch.GetTimestamp();
        Entry moved = await client.RenameAsync(Bucket, SampleMedia.DraftVideo, SampleMedia.PublishedVideo, cancellationToken: cancellationToken).ConfigureAwait(false);
        TimeSpan latency = Stopwatch.GetElapsedTime(started);

        Entry childAfter = await client.StatAsync(Bucket, $"{SampleMedia.PublishedVideo}/{child}", cancellationToken: cancellationToken).ConfigureAwait(false);
        StatusCode oldPath = await StatusOfStatAsync($"{SampleMedia.DraftVideo}/{child}").ConfigureAwait(false);
        int reachable = 0;
        await foreach (Entry _ in client.ListAllAsync(new ListRequest { Bucket = Bucket, Prefix = SampleMedia.PublishedVideo + "/segments/", Delimiter = "/" },
            cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            reachable++;
        }

        Check(moved.DirectoryId == directoryBefore.DirectoryId, "the directory kept its ID");
        Check(childAfter.Generation == childBefore.Generation && childAfter.Modified == childBefore.Modified, "the segment was not rewritten");
        Check(oldPath == StatusCode.NotFound, "the old path is gone");
        Check(reachable == SampleMedia.LargeSegmentCount, "every segment is reachable at the new path");

        Say($"Renamed in [bold]{latency.TotalMilliseconds.ToString("0.00", CultureInfo.InvariantCulture)} ms[/] (one atomic command, durable before the reply).");
        Say($"  [green]✓[/] {Escape(SampleMedia.PublishedVideo + "/" + child)} is there (generation {childAfter.Generation}, modified {EntryView.Time(childAfter.Modified)}: untouched)");
        Say($"  [green]✓[/] {Escape(SampleMedia.DraftVideo + "/" + child)} is gone (stat: {oldPath})");
        Say($"  [green]✓[/] all {reachable:N0} segments are listed under the new path");
        Say($"  [green]✓[/] entries moved: [bold]1[/] — the directory entry itself. Children are keyed by the directory's ID " +
            $"({moved.DirectoryId.ToString("x16", CultureInfo.InvariantCulture)}, unchanged), not by its path, so nothing below it was rewritten.");
    }

    private async Task ListByTimeAsync()
    {
        Heading(ByTimeHeading);
        Say($"[bold]ls {Bucket} {SampleMedia.LiveSegments} --by-time --limit 10[/] — the live stream's latest segments first.");
        string token = "";
        ulong previous = ulong.MaxValue;
        for (int page = 1; page <= 2; page++)
        {
            ListResponse listing = await client.ListByTimeAsync(new ListByTimeRequest
            {
                Bucket = Bucket,
                Directory = SampleMedia.LiveSegments,
                Limit = 10,
                ContinuationToken = token,
            }, cancellationToken: cancellationToken).ConfigureAwait(false);
            foreach (Entry entry in listing.Entries)
            {
                Check(entry.Created <= previous, "entries come newest first");
                previous = entry.Created;
            }

            string more = listing.NextContinuationToken.Length > 0 ? "a continuation token fetches the next page" : "last page";
            console.Write(EntryView.Entries(listing.Entries, EntryView.TimeColumn.Uploaded, $"page {page}: {listing.Entries.Count} entries; {more}"));
            token = listing.NextContinuationToken;
            if (token.Length == 0)
            {
                break;
            }
        }
    }

    private async Task ConflictAsync()
    {
        Heading(ConflictHeading);
        Entry manifest = await client.StatAsync(Bucket, SampleMedia.LiveManifest, cancellationToken: cancellationToken).ConfigureAwait(false);
        ulong generation = manifest.Generation;
        Say($"Two editors read {Escape(SampleMedia.LiveManifest)} at generation [bold]{generation}[/] and both save with [bold]--if-generation-match {generation}[/].");

        // Two independent clients, as two processes would be; both writes race to the node.
        using StrataClient writerA = connectWriter();
        using StrataClient writerB = connectWriter();
        Task<Entry> a = SaveManifestAsync(writerA, generation, "editor-a");
        Task<Entry> b = SaveManifestAsync(writerB, generation, "editor-b");
        await Task.WhenAll(a.ContinueWith(_ => { }, TaskScheduler.Default), b.ContinueWith(_ => { }, TaskScheduler.Default)).ConfigureAwait(false);

        (string name, Task<Entry> task)[] writers = [("writer A", a), ("writer B", b)];
        var winners = writers.Where(w => w.task.IsCompletedSuccessfully).ToList();
        var losers = writers.Where(w => w.task.IsFaulted).ToList();
        Check(winners.Count == 1 && losers.Count == 1, "exactly one writer wins");
        StrataException refusal = losers[0].task.Exception!.InnerException as StrataException
            ?? throw new InvalidOperationException("the losing writer failed for another reason", losers[0].task.Exception);
        Check(refusal.StatusCode == StatusCode.FailedPrecondition, "the loser is refused with FAILED_PRECONDITION");
        Check(refusal.CurrentGeneration == winners[0].task.Result.Generation, "the refusal names the winner's generation");

        Say($"  [green]✓[/] {winners[0].name}: saved, the manifest is now at generation [bold]{winners[0].task.Result.Generation}[/]");
        Say($"  [red]✗[/] {losers[0].name}: rejected — {Escape(CommandActions.Describe(refusal))}");
        Say($"    current generation (trailer strata-current-generation): [bold]{refusal.CurrentGeneration}[/]; " +
            "the loser re-reads, merges and retries with that generation. Nothing was overwritten.");
    }

    private Task<Entry> SaveManifestAsync(StrataClient writer, ulong generation, string editor)
    {
        var attributes = new ObjectAttributes
        {
            Size = 4200,
            Etag = editor + "-" + generation.ToString(CultureInfo.InvariantCulture),
            ContentType = "application/vnd.apple.mpegurl",
            Tier = Tier.Ssd,
            Lifecycle = LifecycleState.LifecycleHot,
        };
        attributes.UserMetadata["edited-by"] = editor;
        return writer.PutObjectAsync(Bucket, SampleMedia.LiveManifest, attributes, new Preconditions { IfGenerationMatch = generation },
            cancellationToken: cancellationToken);
    }

    private async Task FailedTransactionAsync()
    {
        Heading(TransactionHeading);
        Entry manifest = await client.StatAsync(Bucket, SampleMedia.LiveManifest, cancellationToken: cancellationToken).ConfigureAwait(false);
        ulong stale = manifest.Generation - 1;
        string newSegment = SampleMedia.LiveSegments + "/seg-99999.ts";
        string removed = SampleMedia.LiveSegments + "/seg-00001.ts";
        string archive = "archive/lisbon-walk-4k";
        var transaction = new StrataTransaction()
            .Guard(Bucket, SampleMedia.LiveManifest, new Preconditions { IfGenerationMatch = stale })
            .Put(Bucket, newSegment, new ObjectAttributes { Size = 4_500_000, ContentType = "video/mp2t", Tier = Tier.Ssd })
            .Delete(Bucket, removed)
            .Rename(Bucket, SampleMedia.PublishedVideo, archive);
        Say($"One commit of 4 operations: guard manifest at generation {stale} (stale: it is at {manifest.Generation}), " +
            "put a new segment, delete the first segment, move the published video to archive/.");

        StrataException refusal;
        try
        {
            await client.CommitAsync(transaction, cancellationToken: cancellationToken).ConfigureAwait(false);
            throw new InvalidOperationException("the transaction committed although its guard is stale");
        }
        catch (StrataException e)
        {
            refusal = e;
        }

        Check(refusal.StatusCode == StatusCode.FailedPrecondition && refusal.FailedOperation == 0, "the guard (operation 0) failed");
        StatusCode put = await StatusOfStatAsync(newSegment).ConfigureAwait(false);
        StatusCode deleted = await StatusOfStatAsync(removed).ConfigureAwait(false);
        StatusCode video = await StatusOfStatAsync(SampleMedia.PublishedVideo).ConfigureAwait(false);
        StatusCode archived = await StatusOfStatAsync(archive).ConfigureAwait(false);
        Check(put == StatusCode.NotFound && deleted == StatusCode.OK && video == StatusCode.OK && archived == StatusCode.NotFound, "nothing changed");

        Say($"  [red]✗[/] rejected — {Escape(CommandActions.Describe(refusal))}");
        Say($"  [green]✓[/] the new segment was not created (stat: {put})");
        Say($"  [green]✓[/] the first segment is still there (stat: {deleted})");
        Say($"  [green]✓[/] the video was not moved (stat {Escape(archive)}: {archived})");
        Say("All or nothing: the three writes after the failed guard never happened.");
    }

    private async Task<StatusCode> StatusOfStatAsync(string path)
    {
        try
        {
            await client.StatAsync(Bucket, path, cancellationToken: cancellationToken).ConfigureAwait(false);
            return StatusCode.OK;
        }
        catch (StrataException e) when (e.StatusCode == StatusCode.NotFound)
        {
            return e.StatusCode;
        }
    }

    private void Heading(string title)
    {
        console.WriteLine();
        console.Write(new Rule($"[bold yellow]{Escape(title)}[/]").LeftJustified());
    }

    private void Say(string markup) => console.MarkupLine(markup);

    private static string Escape(string text) => Markup.Escape(text);

    private static void Check(bool holds, string claim)
    {
        if (!holds)
        {
            throw new InvalidOperationException($"demo check failed: {claim}");
        }
    }
}
