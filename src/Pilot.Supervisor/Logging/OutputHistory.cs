using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Pilot.Supervisor.Processes;

namespace Pilot.Supervisor.Logging;

/// <summary>One kept output line. <see cref="Source"/> is the job name or <c>check.&lt;job&gt;</c>.</summary>
public sealed record RecordedLine(long Sequence, DateTimeOffset Time, string Source, int Pid, bool IsStdErr, string Text);

/// <summary>
/// The recent output lines of every job and health check, each in its own bounded ring (<c>logging.keepLines</c> lines,
/// and at most <see cref="MaxCharsPerSource"/> characters, oldest dropped first), for <c>pilot logs</c>.
/// Raw jobs write straight to Pilot's stdout, so none of their output is seen here.
/// </summary>
public sealed class OutputHistory
{
    /// <summary>A byte-ish bound beside the line count: 1000 lines of 64 KiB each must not cost 64 MiB per job.</summary>
    public const int MaxCharsPerSource = 1024 * 1024;

    /// <summary>How far a follower may fall behind before its oldest unread lines are dropped.</summary>
    private const int FollowerBacklog = 10_000;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, Ring> _rings = new(StringComparer.Ordinal);
    private readonly List<Follower> _followers = [];
    private readonly TimeProvider _time;
    private int _capacity;
    private long _sequence;

    public OutputHistory(int capacity, TimeProvider? time = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        _capacity = capacity;
        _time = time ?? TimeProvider.System;
    }

    public int Capacity
    {
        get
        {
            lock (_gate)
            {
                return _capacity;
            }
        }
    }

    /// <summary>Applies a reloaded <c>logging.keepLines</c>; shrinking drops the oldest lines.</summary>
    public void Resize(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        lock (_gate)
        {
            _capacity = capacity;
            foreach (var ring in _rings.Values)
            {
                ring.Trim(capacity);
            }
        }
    }

    public void Add(OutputLine line)
    {
        lock (_gate)
        {
            var recorded = new RecordedLine(++_sequence, _time.GetUtcNow(), line.Name, line.Pid, line.IsStdErr, line.Text);
            if (_capacity > 0)
            {
                if (!_rings.TryGetValue(line.Name, out var ring))
                {
                    _rings[line.Name] = ring = new Ring();
                }
                ring.Add(recorded, _capacity);
            }
            foreach (var follower in _followers)
            {
                if (follower.Wants(line.Name))
                {
                    follower.Lines.Writer.TryWrite(recorded);
                }
            }
        }
    }

    /// <summary>The last <paramref name="count"/> lines of <paramref name="job"/> and its health check, oldest first.</summary>
    public IReadOnlyList<RecordedLine> Tail(string job, int count)
    {
        lock (_gate)
        {
            return TailLocked(job, count);
        }
    }

    /// <summary>
    /// The last <paramref name="tail"/> lines, then every line written after the call until cancelled. The follower is
    /// registered under the same lock as the tail is taken, so no line falls between the two.
    /// </summary>
    public async IAsyncEnumerable<RecordedLine> FollowAsync(string job, int tail, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var follower = new Follower(job);
        IReadOnlyList<RecordedLine> recent;
        lock (_gate)
        {
            recent = TailLocked(job, tail);
            _followers.Add(follower);
        }
        try
        {
            foreach (var line in recent)
            {
                yield return line;
            }
            while (await follower.Lines.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (follower.Lines.Reader.TryRead(out var line))
                {
                    yield return line;
                }
            }
        }
        finally
        {
            lock (_gate)
            {
                _followers.Remove(follower);
            }
        }
    }

    private List<RecordedLine> TailLocked(string job, int count)
    {
        if (count <= 0)
        {
            return [];
        }
        IEnumerable<RecordedLine> lines = [];
        foreach (var source in new[] { job, CheckName(job) })
        {
            if (_rings.TryGetValue(source, out var ring))
            {
                lines = lines.Concat(ring.Lines);
            }
        }
        return [.. lines.OrderBy(l => l.Sequence).TakeLast(count)];
    }

    private static string CheckName(string job) => "check." + job;

    private sealed class Ring
    {
        private readonly Queue<RecordedLine> _lines = new();
        private long _chars;

        public IEnumerable<RecordedLine> Lines => _lines;

        public void Add(RecordedLine line, int capacity)
        {
            _lines.Enqueue(line);
            _chars += line.Text.Length;
            Trim(capacity);
        }

        public void Trim(int capacity)
        {
            while (_lines.Count > 0 && (_lines.Count > capacity || _chars > MaxCharsPerSource))
            {
                _chars -= _lines.Dequeue().Text.Length;
            }
        }
    }

    private sealed class Follower(string job)
    {
        public Channel<RecordedLine> Lines { get; } = Channel.CreateBounded<RecordedLine>(
            new BoundedChannelOptions(FollowerBacklog) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });

        public bool Wants(string source) => source == job || source == CheckName(job);
    }
}
