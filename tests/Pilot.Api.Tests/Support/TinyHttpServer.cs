using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Pilot.Api.Tests.Support;

/// <summary>
/// A real HTTP/1.1 server on 127.0.0.1 for health-check tests: answers every request with <see cref="Status"/> and
/// closes the connection; counts the requests. <see cref="Stop"/> closes the port (connections are refused after).
/// </summary>
internal sealed class TinyHttpServer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private int _requests;

    public TinyHttpServer(int status = 200)
    {
        Status = status;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync();
    }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}/health";

    /// <summary>The status of every next answer.</summary>
    public volatile int Status;

    public int Requests => Volatile.Read(ref _requests);

    public void Stop()
    {
        _stop.Cancel();
        _listener.Stop();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            _ = AnswerAsync(client);
        }
    }

    private async Task AnswerAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                using var reader = new StreamReader(stream, Encoding.ASCII, leaveOpen: true);
                // The request line and headers, up to the empty line (a GET has no body).
                while (await reader.ReadLineAsync(_stop.Token) is { Length: > 0 })
                {
                }
                Interlocked.Increment(ref _requests);
                var answer = Encoding.ASCII.GetBytes($"HTTP/1.1 {Status} Test\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
                await stream.WriteAsync(answer, _stop.Token);
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or SocketException)
            {
            }
        }
    }

    public void Dispose()
    {
        Stop();
        _accepting.Wait(TimeSpan.FromSeconds(5));
        _stop.Dispose();
    }
}
