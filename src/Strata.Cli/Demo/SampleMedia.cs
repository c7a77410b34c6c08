using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Spectre.Console;
using Strata.Api.V1;
using Strata.Client;

namespace Strata.Cli.Demo;

/// <summary>
/// The demo's sample namespace: bucket <c>media</c> with creators, channels and videos of HLS segments, each
/// object with realistic metadata (size, ETag, content type, tier, location, encoding profile, DRM key
/// reference). Deterministic: the same seed gives the same catalog.
/// </summary>
internal sealed class SampleMedia
{
    public const string Bucket = "media";

    /// <summary>A video directory with <see cref="LargeSegmentCount"/> segments, published in scene 1.</summary>
    public const string DraftVideo = "creators/ana-lima/channels/travel/drafts/lisbon-walk-4k";

    public const string PublishedVideo = "creators/ana-lima/channels/travel/videos/lisbon-walk-4k";

    public const int LargeSegmentCount = 2000;

    /// <summary>A live stream whose segments arrive one by one (distinct upload times), listed newest first in scene 2.</summary>
    public const string LiveSegments = "creators/noor-haddad/channels/music-live/videos/festival-stream/segments";

    public const string LiveManifest = "creators/noor-haddad/channels/music-live/videos/festival-stream/manifest.m3u8";

    public const int LiveSegmentCount = 25;

    private const int TransactionSize = 250;
    private const int ParallelCommits = 4;

    private static readonly (string Creator, string Channel, string Video, string Profile, Tier Tier, int Segments)[] Library =
    [
        ("ana-lima", "travel", "porto-food-tour", "h264-1080p", Tier.Ssd, 40),
        ("ana-lima", "travel", "sintra-drone", "h265-2160p", Tier.Hdd, 30),
        ("ana-lima", "food", "pastel-de-nata", "h264-1080p", Tier.Ssd, 24),
        ("kenji-sato", "tech-reviews", "keyboard-roundup", "h264-1080p", Tier.Ssd, 36),
        ("kenji-sato", "tech-reviews", "2019-laptop-review", "h264-720p", Tier.Tape, 28),
        ("kenji-sato", "retro", "crt-restoration", "h264-1080p", Tier.Cloud, 32),
        ("noor-haddad", "music-live", "acoustic-session", "h264-1080p", Tier.Hdd, 20),
    ];

    private readonly Random _random;

    public SampleMedia(int seed) => _random = new Random(seed);

    /// <summary>Objects written by <see cref="LoadAsync"/>.</summary>
    public int ObjectCount { get; private set; }

    /// <summary>Creates the bucket and every object, with a progress bar.</summary>
    public async Task LoadAsync(StrataClient client, IAnsiConsole console, CancellationToken cancellationToken)
    {
        await client.CreateBucketAsync(Bucket, cancellationToken: cancellationToken).ConfigureAwait(false);

        var batches = new List<List<(string Path, ObjectAttributes Attributes)>>();
        var objects = new List<(string Path, ObjectAttributes Attributes)>();
        objects.AddRange(Video("ana-lima", "lisbon-walk-4k", DraftVideo, "h265-2160p", Tier.Ssd, LargeSegmentCount));
        foreach ((string creator, string channel, string video, string profile, Tier tier, int segments) in Library)
        {
            objects.AddRange(Video(creator, video, $"creators/{creator}/channels/{channel}/videos/{video}", profile, tier, segments));
        }

        batches.AddRange(objects.Chunk(TransactionSize).Select(chunk => chunk.ToList()));
        int total = objects.Count + LiveSegmentCount + 1;

        await console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .StartAsync(async progress =>
            {
                ProgressTask bulk = progress.AddTask($"catalog: {objects.Count:N0} objects in {batches.Count} transactions", maxValue: objects.Count);
                ProgressTask live = progress.AddTask($"live stream: {LiveSegmentCount} segments, one by one", maxValue: LiveSegmentCount + 1);

                await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = ParallelCommits, CancellationToken = cancellationToken },
                    async (batch, token) =>
                    {
                        var transaction = new StrataTransaction();
                        foreach ((string path, ObjectAttributes attributes) in batch)
                        {
                            transaction.Put(Bucket, path, attributes);
                        }

                        await client.CommitAsync(transaction, cancellationToken: token).ConfigureAwait(false);
                        bulk.Increment(batch.Count);
                    }).ConfigureAwait(false);

                // The live stream's segments arrive one at a time, so each has its own upload time.
                await client.PutObjectAsync(Bucket, LiveManifest, Manifest(LiveManifest, Tier.Ssd), cancellationToken: cancellationToken).ConfigureAwait(false);
                live.Increment(1);
                foreach ((string path, ObjectAttributes attributes) in Segments("noor-haddad", "festival-stream", LiveSegments, "h264-1080p", Tier.Ssd, LiveSegmentCount))
                {
                    await client.PutObjectAsync(Bucket, path, attributes, cancellationToken: cancellationToken).ConfigureAwait(false);
                    live.Increment(1);
                }
            }).ConfigureAwait(false);

        ObjectCount = total;
    }

    private IEnumerable<(string Path, ObjectAttributes Attributes)> Video(string creator, string video, string directory, string profile, Tier tier, int segments)
    {
        string manifest = directory + "/manifest.m3u8";
        return [(manifest, Manifest(manifest, tier)), .. Segments(creator, video, directory + "/segments", profile, tier, segments)];
    }

    private List<(string Path, ObjectAttributes Attributes)> Segments(string creator, string video, string directory, string profile, Tier tier, int count)
    {
        var segments = new List<(string, ObjectAttributes)>(count);
        for (int i = 1; i <= count; i++)
        {
            string path = string.Create(CultureInfo.InvariantCulture, $"{directory}/seg-{i:D5}.ts");
            // ~6 s of video: the bitrate of the profile, give or take 20%.
            ulong bitsPerSecond = profile switch
            {
                "h265-2160p" => 16_000_000,
                "h264-720p" => 3_000_000,
                _ => 6_000_000,
            };
            ulong size = (ulong)(bitsPerSecond / 8 * 6 * (0.8 + (0.4 * _random.NextDouble())));
            var attributes = new ObjectAttributes
            {
                Size = size,
                Etag = Etag(path, size),
                ContentType = "video/mp2t",
                Tier = tier,
                Lifecycle = tier is Tier.Tape or Tier.Cloud ? LifecycleState.LifecycleCold : LifecycleState.LifecycleHot,
            };
            attributes.Locations.Add(new Location { Tier = tier, BlobId = "blob-" + Etag(path, 0)[..20] });
            attributes.UserMetadata["encoding-profile"] = profile;
            attributes.UserMetadata["drm-key-ref"] = $"kms://media/drm/{creator}/{video}/key-v{1 + (i / 500)}";
            attributes.UserMetadata["duration-ms"] = "6000";
            segments.Add((path, attributes));
        }

        return segments;
    }

    private static ObjectAttributes Manifest(string path, Tier tier)
    {
        var attributes = new ObjectAttributes
        {
            Size = 4096,
            Etag = Etag(path, 4096),
            ContentType = "application/vnd.apple.mpegurl",
            Tier = tier == Tier.Tape ? Tier.Hdd : tier,
            Lifecycle = LifecycleState.LifecycleHot,
        };
        attributes.UserMetadata["playlist-type"] = "vod";
        return attributes;
    }

    private static string Etag(string path, ulong size) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{path}:{size}"))))[..32];
}
