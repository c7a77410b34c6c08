using System.Diagnostics;
using System.Globalization;

namespace Strata.Server;

/// <summary>
/// The clock-skew fault hook: a node clock that runs at another rate than real time and is offset from it, changed
/// while the node runs. Turned on by the environment variable <c>STRATA_CLOCK_SKEW_FILE=PATH</c> (a test and chaos
/// hook, never for production): the file holds <c>rate=R offset=Nms</c> (either may be left out; rate 1, offset 0) and
/// is read again whenever it changes, every 100 ms. A missing file means no skew.
/// </summary>
/// <remarks>
/// <para>What it skews: the node's monotonic timestamps (Raft ticks and leader leases count in them — a node whose
/// clock runs slower than its peers' by more than the lease's drift margin keeps a lease its peers no longer honour)
/// and its wall clock (the hybrid logical clock's physical part: at the anchor of the skew plus the skewed elapsed time
/// plus the offset) — everything the node's drive loop times, proposal and read deadlines included. Timers
/// (<see cref="TimeProvider.CreateTimer"/>) stay in real time.</para>
/// <para>Changes keep the monotonic clock monotonic (each change re-anchors at the current skewed time). Thread-safe:
/// readers see one immutable state. One per process (<see cref="Process"/>): the file is polled for the process's
/// lifetime.</para>
/// </remarks>
public sealed class SkewedClock : TimeProvider
{
    /// <summary>The environment variable naming the control file.</summary>
    public const string Variable = "STRATA_CLOCK_SKEW_FILE";

    private readonly string _path;
    private readonly Timer? _poll; // the process's clock polls the file for the process's lifetime
    private readonly Action<string> _warn;
    private readonly object _gate = new();
    private State _state;
    private DateTime _lastWrite = DateTime.MinValue;
    private string _lastText = "";

    private readonly TimeProvider _real;

    private SkewedClock(string path, Action<string> warn, TimeProvider real, bool poll)
    {
        if (real.TimestampFrequency != Stopwatch.Frequency)
        {
            throw new ArgumentException("the real clock must count in Stopwatch ticks", nameof(real));
        }

        _path = path;
        _warn = warn;
        _real = real;
        long now = real.GetTimestamp();
        _state = new State(now, now, real.GetUtcNow(), 1.0, TimeSpan.Zero);
        Reload();
        _poll = poll ? new Timer(_ => Reload(), null, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(100)) : null;
    }

    private static readonly Lazy<SkewedClock?> FromEnvironment = new(() =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } path
            ? new SkewedClock(Path.GetFullPath(path), message => Console.Error.WriteLine("strata: " + message), System, poll: true)
            : null);

    /// <summary>This process's skewed clock, or null when <see cref="Variable"/> is not set (the node uses the system clock).</summary>
    public static SkewedClock? Process => FromEnvironment.Value;

    /// <summary>
    /// A clock over <paramref name="real"/> (counting in <see cref="Stopwatch"/> ticks) controlled by the file at
    /// <paramref name="path"/>, read at creation and at each <see cref="Reload"/> (it does not poll); unreadable contents
    /// are reported to <paramref name="warn"/> and ignored.
    /// </summary>
    public static SkewedClock Create(string path, Action<string> warn, TimeProvider real)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(warn);
        ArgumentNullException.ThrowIfNull(real);
        return new SkewedClock(Path.GetFullPath(path), warn, real, poll: false);
    }

    /// <summary>Reads the control file now if it changed (the clock also does so every 100 ms by itself).</summary>
    public void Reload()
    {
        lock (_gate)
        {
            ReloadLocked();
        }
    }

    /// <summary>The rate the clock runs at now (1: real time).</summary>
    public double Rate => Volatile.Read(ref _state).Rate;

    /// <summary>The offset of the wall clock now.</summary>
    public TimeSpan Offset => Volatile.Read(ref _state).Offset;

    /// <inheritdoc/>
    public override long TimestampFrequency => Stopwatch.Frequency;

    /// <inheritdoc/>
    public override long GetTimestamp() => Volatile.Read(ref _state).Skewed(_real.GetTimestamp());

    /// <inheritdoc/>
    public override DateTimeOffset GetUtcNow()
    {
        State state = Volatile.Read(ref _state);
        long elapsed = state.Skewed(_real.GetTimestamp()) - state.SkewedAnchor;
        return state.WallAnchor + TimeSpan.FromSeconds(elapsed / (double)Stopwatch.Frequency) + state.Offset;
    }

    /// <summary>Runs the clock at <paramref name="rate"/> with the wall clock off by <paramref name="offset"/>, from now.</summary>
    public void Set(double rate, TimeSpan offset)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rate);
        lock (_gate)
        {
            long real = _real.GetTimestamp();
            State old = _state;
            long skewed = old.Skewed(real);
            DateTimeOffset wall = old.WallAnchor + TimeSpan.FromSeconds((skewed - old.SkewedAnchor) / (double)Stopwatch.Frequency);
            Volatile.Write(ref _state, new State(real, skewed, wall, rate, offset));
        }
    }

    /// <summary>Parses the control file's text: <c>rate=R offset=Nms</c>, both optional.</summary>
    /// <exception cref="FormatException">Not of that form, or a rate that is not positive.</exception>
    public static (double Rate, TimeSpan Offset) Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        double rate = 1.0;
        TimeSpan offset = TimeSpan.Zero;
        foreach (string token in text.Split((char[])[' ', '\t', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries))
        {
            if (token.StartsWith("rate=", StringComparison.Ordinal)
                && double.TryParse(token.AsSpan(5), NumberStyles.Float, CultureInfo.InvariantCulture, out double r) && r > 0 && double.IsFinite(r))
            {
                rate = r;
            }
            else if (token.StartsWith("offset=", StringComparison.Ordinal) && token.EndsWith("ms", StringComparison.Ordinal)
                && long.TryParse(token.AsSpan(7, token.Length - 9), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long ms))
            {
                offset = TimeSpan.FromMilliseconds(ms);
            }
            else
            {
                throw new FormatException($"'{token}' is not rate=R (R > 0) or offset=Nms");
            }
        }

        return (rate, offset);
    }

    private void ReloadLocked()
    {
        try
        {
            var info = new FileInfo(_path);
            string text = info.Exists ? File.ReadAllText(_path) : "";
            if (text == _lastText && info.LastWriteTimeUtc == _lastWrite)
            {
                return;
            }

            _lastText = text;
            _lastWrite = info.LastWriteTimeUtc;
            (double rate, TimeSpan offset) = Parse(text);
            Set(rate, offset);
        }
        catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException)
        {
            _warn($"clock skew control {_path} ignored: {e.Message}");
        }
    }

    /// <summary>At real timestamp <paramref name="RealAnchor"/> the skewed clock read <paramref name="SkewedAnchor"/>.</summary>
    private sealed record State(long RealAnchor, long SkewedAnchor, DateTimeOffset WallAnchor, double Rate, TimeSpan Offset)
    {
        public long Skewed(long real) => SkewedAnchor + (long)((real - RealAnchor) * Rate);
    }
}
