using System.Net.Sockets;
using Pilot.Api.Hosting;

namespace Pilot.Api.Control;

/// <summary>Another process answers on the control socket: this Pilot must not take it over.</summary>
public sealed class ControlSocketInUseException(string path)
    : IOException($"control socket {path} is in use: another Pilot answers on it")
{
    public string SocketPath { get; } = path;
}

/// <summary>
/// Something other than a socket is at the control socket path: Pilot does not delete it (a typo in
/// <c>control.socket</c> must not destroy a file, least of all as root).
/// </summary>
public sealed class ControlSocketPathTakenException(string path, string what)
    : IOException($"control.socket {path}: {what} is there, not a socket; Pilot replaces only a stale socket. Remove it or choose another control.socket")
{
    public string SocketPath { get; } = path;
}

/// <summary>The socket file's life: stale-socket removal before binding and the mode right after.</summary>
public static class ControlSocket
{
    /// <summary>
    /// Deletes a stale socket at <paramref name="path"/> (nobody accepts a connection on it) so Kestrel can bind.
    /// A live socket is another Pilot's (<see cref="ControlSocketInUseException"/>); anything that is not a socket is
    /// left alone (<see cref="ControlSocketPathTakenException"/>).
    /// </summary>
    public static void PrepareForBind(string path)
    {
        var kind = SocketPathKinds.Of(path);
        if (kind is SocketPathKind.Nothing or SocketPathKind.Unknown)
        {
            // Unknown: nothing is deleted; if something is there, binding fails with its own error.
            return;
        }
        if (kind != SocketPathKind.Socket)
        {
            throw new ControlSocketPathTakenException(path, SocketPathKinds.Describe(kind));
        }
        if (IsLive(path))
        {
            throw new ControlSocketInUseException(path);
        }
        File.Delete(path);
    }
    /// <summary>Whether something accepts a connection at <paramref name="path"/>.</summary>
    public static bool IsLive(string path)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionRefused or SocketError.AddressNotAvailable)
        {
            // ECONNREFUSED: a socket file nobody listens on, or not a socket at all.
            return false;
        }
    }

    /// <summary>
    /// Sets the socket file's mode right after binding. No umask games around the bind: umask is process-wide and
    /// children spawned meanwhile would inherit it; a socket needs write permission to connect, so the default
    /// umask (022) already keeps others out for that instant.
    /// </summary>
    public static void ApplyMode(string path, int mode) => File.SetUnixFileMode(path, (UnixFileMode)mode);
}

/// <summary>
/// The control socket, bound and listening before anything else starts (v3 listens before it starts jobs, so a job may
/// call <c>pilot -putenv</c> at once: its connection waits in the backlog until Pilot accepts it). Pilot accepts its
/// connections itself and hands them to the Kestrel that serves them (<see cref="Hosting.OnDemandKestrel"/>); this object
/// keeps the listening descriptor and, when disposed, closes it and removes the socket file.
/// </summary>
public sealed class ControlListener : IDisposable
{
    private ControlListener(ListeningSocket socket, string path)
    {
        Socket = socket;
        SocketPath = path;
    }

    public string SocketPath { get; }

    internal ListeningSocket Socket { get; }

    /// <summary>The listening descriptor itself (it stays open as long as this object).</summary>
    public int Descriptor => Socket.Descriptor;

    /// <summary>A new close-on-exec duplicate of the listening descriptor, for a web application that listens on it for its whole life.</summary>
    public ulong DuplicateForKestrel() => Socket.DuplicateForKestrel();

    /// <summary>
    /// Replaces a stale socket file (a live one: <see cref="ControlSocketInUseException"/>), binds, sets
    /// <see cref="ControlConfig.SocketMode"/> on the file and listens. <paramref name="control"/> comes from a validated
    /// config: its path is absolute and fits a socket address (the rules live in the config's ControlValidator).
    /// </summary>
    public static ControlListener Bind(Pilot.Supervisor.Config.ControlConfig control)
    {
        ArgumentNullException.ThrowIfNull(control);
        ControlSocket.PrepareForBind(control.SocketPath);
        var socket = ListeningSocket.Bind(
            new UnixDomainSocketEndPoint(control.SocketPath), () => ControlSocket.ApplyMode(control.SocketPath, control.SocketMode));
        return new ControlListener(socket, control.SocketPath);
    }

    /// <summary>Closes the original descriptor; .NET removes the file a socket it bound leaves behind.</summary>
    public void Dispose() => Socket.Dispose();
}
