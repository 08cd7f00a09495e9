using System.Collections.Concurrent;

namespace Pilot.Api.Control;

/// <summary>
/// Told about every control-plane reply except a 404 for an unknown path (as v3 counts
/// <c>containerpilot_control_http_requests{code,path}</c>). Telemetry may register its own implementation.
/// </summary>
public interface IControlRequestObserver
{
    void RequestCompleted(int statusCode, string path);
}

/// <summary>The default observer: thread-safe counts per (code, path), readable by telemetry.</summary>
public sealed class ControlRequestCounter : IControlRequestObserver
{
    private readonly ConcurrentDictionary<(int Code, string Path), long> _counts = new();

    public void RequestCompleted(int statusCode, string path) =>
        _counts.AddOrUpdate((statusCode, path), 1, static (_, count) => count + 1);

    public long Count(int statusCode, string path) => _counts.GetValueOrDefault((statusCode, path));

    public IReadOnlyDictionary<(int Code, string Path), long> Snapshot() => new Dictionary<(int, string), long>(_counts);
}
