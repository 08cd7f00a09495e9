namespace Pilot.Supervisor.Processes;

/// <summary>
/// Lists the direct children of every thread of this process (on Linux a child belongs to the thread that forked it)
/// from <c>/proc/self/task/*/children</c>, without allocating: the task directory stays open and is rewound, each
/// <c>children</c> file is opened relative to it and parsed from a stack buffer, and pids go into a buffer that only
/// grows when a pass finds more children than ever before. The orphan reaper's safety poll runs this every second for
/// the life of the container, so an idle Pilot must not produce garbage here. Not thread-safe: one reader per caller.
/// </summary>
public sealed unsafe class ChildPidReader : IDisposable
{
    private nint _tasks;
    private int[] _pids = new int[64];

    /// <summary>Reads the current children; the first <c>count</c> entries of <see cref="Pids"/> hold them.</summary>
    public int Read()
    {
        if (_tasks == 0)
        {
            fixed (byte* path = "/proc/self/task\0"u8)
            {
                _tasks = Native.OpenDir(path);
            }
            if (_tasks == 0)
            {
                return 0;
            }
        }
        Native.RewindDir(_tasks);
        var directory = Native.DirFd(_tasks);
        var count = 0;
        byte* relative = stackalloc byte[64];
        for (var entry = Native.ReadDir(_tasks); entry != null; entry = Native.ReadDir(_tasks))
        {
            var name = entry + Native.DirentNameOffset;
            var length = 0;
            while (length < 20 && name[length] is >= (byte)'0' and <= (byte)'9')
            {
                length++;
            }
            if (length == 0 || name[length] != 0)
            {
                continue; // ".", ".."
            }
            // "<tid>/children", relative to the open task directory.
            new ReadOnlySpan<byte>(name, length).CopyTo(new Span<byte>(relative, 64));
            "/children\0"u8.CopyTo(new Span<byte>(relative + length, 64 - length));
            count = ReadChildren(directory, relative, count);
        }
        return count;
    }

    /// <summary>The pid buffer <see cref="Read"/> fills.</summary>
    public ReadOnlySpan<int> Pids => _pids;

    private int ReadChildren(int directory, byte* relativePath, int count)
    {
        var fd = Native.OpenAt(directory, relativePath, Native.O_RDONLY | Native.O_CLOEXEC);
        if (fd < 0)
        {
            return count; // the thread ended
        }
        const int BufferSize = 512;
        byte* buffer = stackalloc byte[BufferSize];
        var pid = 0;
        var inNumber = false;
        try
        {
            while (true)
            {
                var read = Native.Read(fd, buffer, BufferSize);
                if (read <= 0)
                {
                    break;
                }
                for (var i = 0; i < read; i++)
                {
                    var c = buffer[i];
                    if (c is >= (byte)'0' and <= (byte)'9')
                    {
                        pid = pid * 10 + (c - '0');
                        inNumber = true;
                    }
                    else if (inNumber)
                    {
                        count = Add(count, pid);
                        (pid, inNumber) = (0, false);
                    }
                }
            }
            return inNumber ? Add(count, pid) : count;
        }
        finally
        {
            _ = Native.Close(fd);
        }
    }

    private int Add(int count, int pid)
    {
        if (count == _pids.Length)
        {
            Array.Resize(ref _pids, _pids.Length * 2);
        }
        _pids[count] = pid;
        return count + 1;
    }

    public void Dispose()
    {
        if (_tasks != 0)
        {
            _ = Native.CloseDir(_tasks);
            _tasks = 0;
        }
    }
}
