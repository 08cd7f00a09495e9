using System.Net.Sockets;
using System.Runtime.InteropServices;
using Pilot.Supervisor.Config;
using Pilot.Supervisor.Jobs;
using LogLevel = Pilot.Supervisor.Config.LogLevel;

namespace Pilot.Supervisor.Notify;

/// <summary>
/// A job's own notify socket (<c>health.notify</c>): an AF_UNIX datagram socket, mode 0600, alone in a private
/// directory (0700; both owned by the job's <c>user</c> when it has one), with SO_PASSCRED so every datagram carries
/// its sender's pid and uid. The job gets its path as <c>NOTIFY_SOCKET</c>.
/// Event-driven: a zero-byte peek through the runtime's socket engine (epoll) waits until a datagram is queued, then
/// recvmsg drains the queue without blocking; nothing runs while the job says nothing. Each datagram becomes one input
/// of the job (<see cref="NotifyReceived"/>, or <see cref="NotifyIgnored"/> for one too long, malformed or without
/// credentials); whether it came from the job's run is decided by the job's state machine, from the sender's process
/// group and parents read here the moment it arrived.
/// </summary>
public sealed class NotifySocket : IDisposable
{
    private const int ControlBytes = 512;

    private readonly Socket _socket;
    // The descriptor, read once (Socket.Handle would mark it exposed); valid until Dispose, which ends the receiving first.
    private readonly int _fd;
    private readonly string _directory;
    private readonly Func<JobInput, bool> _post;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _receiving;

    private NotifySocket(Socket socket, string directory, string path, Func<JobInput, bool> post)
    {
        _socket = socket;
        _fd = (int)socket.SafeHandle.DangerousGetHandle();
        _directory = directory;
        _post = post;
        Path = path;
        _receiving = ReceiveAsync();
    }

    /// <summary>The socket's path, given to the job as <c>NOTIFY_SOCKET</c>.</summary>
    public string Path { get; }

    /// <summary>
    /// Binds a new socket for <paramref name="job"/>; <paramref name="post"/> gets each datagram as an input.
    /// Throws <see cref="IOException"/> or <see cref="SocketException"/> when the socket cannot be made.
    /// </summary>
    public static NotifySocket Open(string job, RunAs? runAs, Func<JobInput, bool> post)
    {
        var directory = PrivateDirectory();
        var path = System.IO.Path.Join(directory, "notify");
        var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        try
        {
            socket.SetRawSocketOption(NotifyInterop.SOL_SOCKET, NotifyInterop.SO_PASSCRED, BitConverter.GetBytes(1));
            socket.Bind(new UnixDomainSocketEndPoint(path));
            if (NotifyInterop.Chmod(path, Convert.ToUInt32("600", 8)) != 0)
            {
                throw new IOException($"chmod {path}: {Processes.Native.ErrnoText(Marshal.GetLastPInvokeError())}");
            }
            if (runAs is { Uid: { } uid } && (uint)uid != Processes.Native.GetEuid())
            {
                // The job runs as another user: the socket and its directory are that user's (Pilot is root, or the
                // job cannot start anyway).
                foreach (var owned in new[] { path, directory })
                {
                    if (NotifyInterop.Chown(owned, (uint)uid, (uint)runAs.Gid) != 0)
                    {
                        throw new IOException($"chown {owned}: {Processes.Native.ErrnoText(Marshal.GetLastPInvokeError())}");
                    }
                }
            }
            return new NotifySocket(socket, directory, path, post);
        }
        catch
        {
            socket.Dispose();
            TryDelete(directory);
            throw;
        }
    }

    /// <summary>
    /// A new 0700 directory with a random name under $TMPDIR (or /tmp); an image with neither (FROM scratch) still has
    /// /dev/shm or /run under a container runtime. The path stays well under sun_path's 108 bytes for any sane TMPDIR
    /// (the job's name is not part of it).
    /// </summary>
    private static string PrivateDirectory()
    {
        string? failure = null;
        foreach (var parent in new[] { System.IO.Path.GetTempPath(), "/dev/shm", "/run" })
        {
            // mkdir(2) with the mode, failing if the name exists: nothing of anyone else's is ever taken for it.
            var directory = System.IO.Path.Join(parent, "pilot-notify-" + Guid.NewGuid().ToString("N")[..12]);
            if (NotifyInterop.Mkdir(directory, Convert.ToUInt32("700", 8)) == 0)
            {
                return directory;
            }
            failure ??= $"mkdir {directory}: {Processes.Native.ErrnoText(Marshal.GetLastPInvokeError())}";
        }
        throw new IOException(failure);
    }

    private async Task ReceiveAsync()
    {
        var buffer = new byte[NotifyMessage.MaxBytes];
        var control = new byte[ControlBytes];
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                // Waits (epoll) until a datagram is queued, without taking it.
                await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.Peek, _stop.Token).ConfigureAwait(false);
                while (Receive(buffer, control) is { } input)
                {
                    Deliver(input);
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException && _stop.IsCancellationRequested)
        {
        }
    }

    private void Deliver(Received received)
    {
        var barrier = received.Input is NotifyReceived { Message.Barrier: true } && received.Descriptors.Count > 0;
        if (!_post(received.Input) || !barrier)
        {
            CloseAll(received.Descriptors);
        }
        else if (!_post(new NotifyBarrier([.. received.Descriptors])))
        {
            // The job ended meanwhile: nobody will close them.
            CloseAll(received.Descriptors);
        }
    }

    private readonly record struct Received(JobInput Input, List<int> Descriptors);

    /// <summary>One datagram as the job's input, or null when none is queued.</summary>
    private unsafe Received? Receive(byte[] buffer, byte[] control)
    {
        nint length;
        int flags;
        fixed (byte* data = buffer)
        fixed (byte* ancillary = control)
        {
            var iov = new NotifyInterop.IoVec { Base = data, Length = (nuint)buffer.Length };
            var header = new NotifyInterop.MsgHdr { Iov = &iov, IovLength = 1, Control = ancillary, ControlLength = (nuint)control.Length };
            do
            {
                length = NotifyInterop.RecvMsg(_fd, &header,
                    NotifyInterop.MSG_DONTWAIT | NotifyInterop.MSG_CMSG_CLOEXEC);
            }
            while (length < 0 && Marshal.GetLastPInvokeError() == NotifyInterop.EINTR);
            if (length < 0)
            {
                return null;
            }
            flags = header.Flags;
            var (credentials, descriptors) = Ancillary(control.AsSpan(0, (int)header.ControlLength));
            if ((flags & NotifyInterop.MSG_TRUNC) != 0)
            {
                return new(new NotifyIgnored(NotifyIgnoredReason.Oversized, $"longer than {NotifyMessage.MaxBytes} bytes"), descriptors);
            }
            if (credentials is not { } sender)
            {
                return new(new NotifyIgnored(NotifyIgnoredReason.NoCredentials, "no sender credentials"), descriptors);
            }
            var (message, error) = NotifyMessage.Parse(buffer.AsSpan(0, (int)length));
            if (message is null)
            {
                return new(new NotifyIgnored(NotifyIgnoredReason.Malformed, $"{error}, from pid {sender.Pid}"), descriptors);
            }
            // Read now: a sender such as `systemd-notify --no-block` may be gone by the time the job handles it.
            return new(new NotifyReceived(message, NotifySender.Read(sender.Pid, sender.Uid)), descriptors);
        }
    }

    /// <summary>The SCM_CREDENTIALS (pid, uid) and SCM_RIGHTS descriptors of a datagram's ancillary data.</summary>
    private static ((int Pid, int Uid)? Credentials, List<int> Descriptors) Ancillary(ReadOnlySpan<byte> control)
    {
        (int, int)? credentials = null;
        var descriptors = new List<int>();
        var offset = 0;
        while (offset + NotifyInterop.CmsgHeaderBytes <= control.Length)
        {
            var length = (int)Math.Min(MemoryMarshal.Read<ulong>(control[offset..]), int.MaxValue);
            if (length < NotifyInterop.CmsgHeaderBytes || offset + length > control.Length)
            {
                break;
            }
            var level = MemoryMarshal.Read<int>(control[(offset + 8)..]);
            var type = MemoryMarshal.Read<int>(control[(offset + 12)..]);
            var data = control.Slice(offset + NotifyInterop.CmsgHeaderBytes, length - NotifyInterop.CmsgHeaderBytes);
            if (level == NotifyInterop.SOL_SOCKET && type == NotifyInterop.SCM_CREDENTIALS && data.Length >= 12)
            {
                credentials = (MemoryMarshal.Read<int>(data), MemoryMarshal.Read<int>(data[4..]));
            }
            else if (level == NotifyInterop.SOL_SOCKET && type == NotifyInterop.SCM_RIGHTS)
            {
                for (var i = 0; i + 4 <= data.Length; i += 4)
                {
                    descriptors.Add(MemoryMarshal.Read<int>(data[i..]));
                }
            }
            offset += (length + 7) & ~7;
        }
        return (credentials, descriptors);
    }

    /// <summary>Closes descriptors a sender passed along (Pilot keeps none: no FDSTORE).</summary>
    public static void CloseAll(IEnumerable<int> descriptors)
    {
        foreach (var fd in descriptors)
        {
            _ = NotifyInterop.Close(fd);
        }
    }

    public void Dispose()
    {
        // The wait is cancelled first, so no recvmsg can meet a descriptor that is closed (or already reused).
        _stop.Cancel();
        try
        {
            _receiving.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
        _socket.Dispose();
        _stop.Dispose();
        TryDelete(_directory);
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }
}
