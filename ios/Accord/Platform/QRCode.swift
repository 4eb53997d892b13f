import CoreImage
import CoreImage.CIFilterBuiltins
import SwiftUI

/// A QR code of `text`, black on white in both appearances (so it scans in dark mode).
struct QRCodeView: View {
    let text: String

    var body: some View {
        if let image = QRCodeView.image(text) {
            Image(uiImage: image)
                .interpolation(.none)
                .resizable()
                .scaledToFit()
                .padding(12)
                .background(Color.white)
                .accessibilityLabel("QR code of the ticket")
        }
    }

    static func image(_ text: String) -> UIImage? {
        let filter = CIFilter.qrCodeGenerator()
        filter.message = Data(text.utf8)
        filter.correctionLevel = "M"
        guard let output = filter.outputImage?.transformed(by: CGAffineTransform(scaleX: 8, y: 8)),
              let cg = CIContext().createCGImage(output, from: output.extent) else { return nil }
        return UIImage(cgImage: cg)
    }
}
