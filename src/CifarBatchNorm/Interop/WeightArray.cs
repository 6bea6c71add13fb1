namespace CifarBatchNorm.Interop;

/// <summary>A named float32 array with its shape, as a file stores it.</summary>
/// <param name="Name">The variable's name in the file (<c>kernel:0</c>, <c>0</c>, <c>3.weight</c>, ...).</param>
/// <param name="Shape">Dimensions, outermost first.</param>
/// <param name="Data">The values, row-major.</param>
internal sealed record WeightArray(string Name, long[] Shape, float[] Data)
{
    /// <summary>The shape as Keras prints it: <c>(3, 3, 3, 8)</c>.</summary>
    public string ShapeText => FormatShape(Shape);

    /// <summary>Formats a shape as <c>(3, 3, 3, 8)</c>.</summary>
    public static string FormatShape(IEnumerable<long> shape) => $"({string.Join(", ", shape)})";
}
