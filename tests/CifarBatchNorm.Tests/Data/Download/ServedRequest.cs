namespace CifarBatchNorm.Tests.Data.Download;

/// <summary>A request as the test server saw it.</summary>
internal sealed record ServedRequest(string Method, string Target, string? Range);
