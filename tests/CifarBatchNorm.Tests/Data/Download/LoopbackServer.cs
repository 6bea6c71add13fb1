using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace CifarBatchNorm.Tests.Data.Download;

/// <summary>
/// A minimal HTTP/1.1 server on 127.0.0.1 and a free port (bound to port 0), one response per connection.
/// The responder gets each request and its index (0 for the first). Disposing stops it and every connection.
/// </summary>
internal sealed class LoopbackServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly Func<ServedRequest, int, ServedResponse> _respond;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<ServedRequest> _requests = new();
    private readonly ConcurrentBag<Task> _connections = [];
    private readonly Task _acceptLoop;
    private int _count;

    public LoopbackServer(Func<ServedRequest, int, ServedResponse> respond)
    {
        _respond = respond;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        int port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        Url = $"http://127.0.0.1:{port}/cifar-10-binary.tar.gz";
        _acceptLoop = AcceptAsync();
    }

    /// <summary>Address of the tarball on this server.</summary>
    public string Url { get; }

    /// <summary>Requests received so far, in order.</summary>
    public IReadOnlyList<ServedRequest> Requests => [.. _requests];

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await Task.WhenAll([_acceptLoop, .. _connections]).WaitAsync(TimeSpan.FromSeconds(2));
        _stop.Dispose();
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
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _connections.Add(ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var request = await ReadRequestAsync(stream);
                _requests.Enqueue(request);
                var response = _respond(request, Interlocked.Increment(ref _count) - 1);
                var head = new StringBuilder()
                    .Append(CultureInfo.InvariantCulture, $"HTTP/1.1 {response.Status} {ReasonPhrase(response.Status)}\r\n")
                    .Append(CultureInfo.InvariantCulture, $"Content-Length: {response.Body.Length}\r\n")
                    .Append("Content-Type: application/octet-stream\r\nAccept-Ranges: bytes\r\nConnection: close\r\n");
                if (response.Location is { } location)
                {
                    head.Append(CultureInfo.InvariantCulture, $"Location: {location}\r\n");
                }

                if (response.ContentRange is { } contentRange)
                {
                    head.Append(CultureInfo.InvariantCulture, $"Content-Range: {contentRange}\r\n");
                }

                await stream.WriteAsync(Encoding.ASCII.GetBytes(head.Append("\r\n").ToString()), _stop.Token);
                await stream.FlushAsync(_stop.Token);
                if (response.StallAfterHeaders)
                {
                    await Task.Delay(Timeout.Infinite, _stop.Token);
                }

                int length = Math.Min(response.CloseAfterBytes ?? int.MaxValue, response.Body.Length);
                await stream.WriteAsync(response.Body.AsMemory(0, length), _stop.Token);
                await stream.FlushAsync(_stop.Token);
                client.Client.Shutdown(SocketShutdown.Send);
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
            {
                // The client gave up or the server is stopping.
            }
        }
    }

    private async Task<ServedRequest> ReadRequestAsync(NetworkStream stream)
    {
        var bytes = new List<byte>();
        var one = new byte[1];
        while (bytes.Count < 4 || bytes[^4] != '\r' || bytes[^3] != '\n' || bytes[^2] != '\r' || bytes[^1] != '\n')
        {
            if (await stream.ReadAsync(one, _stop.Token) == 0)
            {
                throw new IOException("The client closed the connection before the end of the request headers.");
            }

            bytes.Add(one[0]);
        }

        string[] lines = Encoding.ASCII.GetString([.. bytes]).Split("\r\n");
        string[] requestLine = lines[0].Split(' ');
        string? range = lines
            .Skip(1)
            .Where(line => line.StartsWith("Range:", StringComparison.OrdinalIgnoreCase))
            .Select(line => line["Range:".Length..].Trim())
            .FirstOrDefault();
        return new ServedRequest(requestLine[0], requestLine[1], range);
    }

    private static string ReasonPhrase(int status) => status switch
    {
        200 => "OK",
        206 => "Partial Content",
        403 => "Forbidden",
        404 => "Not Found",
        500 => "Internal Server Error",
        _ => "Status",
    };
}
