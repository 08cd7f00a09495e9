using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Pilot.Api.Tests.Images;

/// <summary>
/// A stub DNS server on UDP port 53 of its own loopback address (127.x.y.z, so tests running at once do not collide, and
/// a root's <c>/etc/resolv.conf</c> can name it: resolv.conf has no port). It answers A queries for the names it knows
/// with their IPv4 address, AAAA for them with no records, and NXDOMAIN for every other name.
/// </summary>
internal sealed class StubDns : IAsyncDisposable
{
    private readonly UdpClient _socket;
    private readonly IReadOnlyDictionary<string, IPAddress> _names;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _serving;

    private StubDns(UdpClient socket, IPAddress address, IReadOnlyDictionary<string, IPAddress> names)
    {
        _socket = socket;
        Address = address;
        _names = names;
        _serving = ServeAsync();
    }

    public IPAddress Address { get; }

    /// <summary>Every name asked about, in order (with the query type: "A name", "AAAA name").</summary>
    public ConcurrentQueue<string> Queries { get; } = new();

    /// <summary>The line for a root's <c>/etc/resolv.conf</c>.</summary>
    public string ResolvConf => $"nameserver {Address}\noptions timeout:2 attempts:3\n";

    public static StubDns Start(IReadOnlyDictionary<string, IPAddress> names)
    {
        for (var attempt = 0; ; attempt++)
        {
            var address = new IPAddress([127, (byte)Random.Shared.Next(1, 255), (byte)Random.Shared.Next(1, 255), (byte)Random.Shared.Next(1, 255)]);
            try
            {
                return new StubDns(new UdpClient(new IPEndPoint(address, 53)), address, names);
            }
            catch (SocketException) when (attempt < 20)
            {
                // That address's port 53 is taken (another test's stub): draw another.
            }
        }
    }

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            UdpReceiveResult query;
            try
            {
                query = await _socket.ReceiveAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            if (Answer(query.Buffer) is { } answer)
            {
                await _socket.SendAsync(answer, query.RemoteEndPoint, _stop.Token);
            }
        }
    }

    /// <summary>The reply to one query (RFC 1035 §4.1): its header and question, then one A record or none.</summary>
    private byte[]? Answer(byte[] query)
    {
        if (query.Length < 12 || BinaryPrimitives.ReadUInt16BigEndian(query.AsSpan(4)) != 1)
        {
            return null;
        }
        var labels = new List<string>();
        var position = 12;
        while (position < query.Length && query[position] != 0)
        {
            var length = query[position];
            if (position + 1 + length > query.Length)
            {
                return null;
            }
            labels.Add(Encoding.ASCII.GetString(query, position + 1, length));
            position += 1 + length;
        }
        var questionEnd = position + 5;
        if (questionEnd > query.Length)
        {
            return null;
        }
        var name = string.Join('.', labels).ToLowerInvariant();
        var type = BinaryPrimitives.ReadUInt16BigEndian(query.AsSpan(position + 1));
        const ushort TypeA = 1, TypeAaaa = 28;
        Queries.Enqueue($"{(type == TypeA ? "A" : type == TypeAaaa ? "AAAA" : type.ToString(System.Globalization.CultureInfo.InvariantCulture))} {name}");
        var known = _names.TryGetValue(name, out var address);
        var answers = known && type == TypeA ? 1 : 0;
        var reply = new byte[questionEnd + (answers * 16)];
        query.AsSpan(0, questionEnd).CopyTo(reply);
        // QR, opcode 0, RD copied, RA; RCODE 3 (NXDOMAIN) for a name it does not know.
        reply[2] = (byte)(0x80 | (query[2] & 0x01));
        reply[3] = (byte)(0x80 | (known ? 0 : 3));
        BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(6), (ushort)answers);
        BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(8), 0);
        BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(10), 0);
        if (answers == 1)
        {
            var record = reply.AsSpan(questionEnd);
            BinaryPrimitives.WriteUInt16BigEndian(record, 0xC00C); // the name: a pointer to the question's
            BinaryPrimitives.WriteUInt16BigEndian(record[2..], TypeA);
            BinaryPrimitives.WriteUInt16BigEndian(record[4..], 1); // IN
            BinaryPrimitives.WriteUInt32BigEndian(record[6..], 5); // TTL
            BinaryPrimitives.WriteUInt16BigEndian(record[10..], 4);
            address!.GetAddressBytes().CopyTo(record[12..]);
        }
        return reply;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _socket.Dispose();
        await _serving;
        _stop.Dispose();
    }
}
