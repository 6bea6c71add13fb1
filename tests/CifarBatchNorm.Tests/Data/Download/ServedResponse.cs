using System.Globalization;
using System.Text;

namespace CifarBatchNorm.Tests.Data.Download;

/// <summary>
/// What the test server sends back. <paramref name="CloseAfterBytes"/> cuts the body short (the Content-Length
/// still announces all of it); <paramref name="StallAfterHeaders"/> sends the headers and then nothing.
/// </summary>
internal sealed record ServedResponse(
    int Status,
    byte[] Body,
    string? ContentRange = null,
    int? CloseAfterBytes = null,
    bool StallAfterHeaders = false,
    string? Location = null)
{
    /// <summary>A redirect (<paramref name="status"/> 301, 302, 307 ...) to <paramref name="location"/>.</summary>
    public static ServedResponse Redirect(int status, string location) => new(status, [], Location: location);

    /// <summary>Serves <paramref name="file"/>, honouring a <c>bytes=N-</c> range like a real server.</summary>
    public static ServedResponse File(byte[] file, ServedRequest request, int? closeAfterBytes = null)
    {
        if (request.Range is { } range && range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-'))
        {
            int from = int.Parse(range["bytes=".Length..^1], CultureInfo.InvariantCulture);
            return new ServedResponse(206, file[from..], $"bytes {from}-{file.Length - 1}/{file.Length}", closeAfterBytes);
        }

        return new ServedResponse(200, file, CloseAfterBytes: closeAfterBytes);
    }

    /// <summary>An error status with a short text body.</summary>
    public static ServedResponse Error(int status) => new(status, Encoding.ASCII.GetBytes($"error {status}"));
}
