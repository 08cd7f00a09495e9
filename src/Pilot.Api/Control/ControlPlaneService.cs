using Microsoft.Extensions.Hosting;

namespace Pilot.Api.Control;

/// <summary>
/// The control plane as the host's first hosted service: it serves the socket <see cref="ControlListener"/> bound
/// before the host was built (v3 listens before any job starts, and a job may call <c>pilot -putenv</c> at once), and is
/// stopped last, after the jobs.
/// </summary>
internal sealed class ControlPlaneService(ControlListener listener, ControlPlaneOptions options) : IHostedService, IAsyncDisposable
{
    private ControlPlane? _controlPlane;

    public async Task StartAsync(CancellationToken cancellationToken) =>
        _controlPlane = await ControlPlane.StartAsync(listener, options, cancellationToken).ConfigureAwait(false);

    public Task StopAsync(CancellationToken cancellationToken) => _controlPlane?.StopAsync(cancellationToken) ?? Task.CompletedTask;

    public ValueTask DisposeAsync() => _controlPlane?.DisposeAsync() ?? ValueTask.CompletedTask;
}
