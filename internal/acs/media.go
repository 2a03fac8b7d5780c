package acs

// Media operation request bodies (swagger 2026-03-12).

// PlaySource is one source of a play or a recognize prompt.
type PlaySource struct {
	Kind    string      `json:"kind"` // file, text, ssml
	CacheID string      `json:"playSourceCacheId,omitempty"`
	File    *FileSource `json:"file,omitempty"`
	Text    *TextSource `json:"text,omitempty"`
	SSML    *SSMLSource `json:"ssml,omitempty"`
}

// FileSource is an audio file by URL.
type FileSource struct {
	URI string `json:"uri"`
}

// TextSource is text to speak.
type TextSource struct {
	Text                  string `json:"text"`
	SourceLocale          string `json:"sourceLocale,omitempty"`
	VoiceKind             string `json:"voiceKind,omitempty"`
	VoiceName             string `json:"voiceName,omitempty"`
	CustomVoiceEndpointID string `json:"customVoiceEndpointId,omitempty"`
}

// SSMLSource is SSML to speak.
type SSMLSource struct {
	SSMLText              string `json:"ssmlText"`
	CustomVoiceEndpointID string `json:"customVoiceEndpointId,omitempty"`
}

// PlayOptions are playOptions.
type PlayOptions struct {
	Loop bool `json:"loop"`
}

// PlayRequest is the body of …:play.
type PlayRequest struct {
	PlaySources                 []PlaySource      `json:"playSources"`
	PlayTo                      []IdentifierModel `json:"playTo,omitempty"`
	InterruptCallMediaOperation bool              `json:"interruptCallMediaOperation,omitempty"`
	PlayOptions                 *PlayOptions      `json:"playOptions,omitempty"`
	OperationContext            string            `json:"operationContext,omitempty"`
	OperationCallbackURI        string            `json:"operationCallbackUri,omitempty"`
}

// Validate checks a play source's shape.
func (p PlaySource) Validate() error {
	switch p.Kind {
	case "file":
		if p.File == nil || p.File.URI == "" {
			return BadRequest("a file play source needs file.uri")
		}
	case "text":
		if p.Text == nil {
			return BadRequest("a text play source needs text")
		}
	case "ssml":
		if p.SSML == nil {
			return BadRequest("an ssml play source needs ssml.ssmlText")
		}
	case "":
		return BadRequest("play source kind is required (file, text or ssml)")
	default:
		return BadRequest("play source kind %q is not file, text or ssml", p.Kind)
	}
	return nil
}

// Media operation event names.
const (
	EventPlayStarted   = "PlayStarted"
	EventPlayCompleted = "PlayCompleted"
	EventPlayFailed    = "PlayFailed"
	EventPlayCanceled  = "PlayCanceled"
)

// PlayFailedData is the data of PlayFailed.
type PlayFailedData struct {
	CallEventData
	FailedPlaySourceIndex int `json:"failedPlaySourceIndex"`
}

// Media operation results.
var (
	ResultPlayOK       = ResultInformation{Code: 200, SubCode: 0, Message: "Action completed successfully."}
	ResultCanceled     = ResultInformation{Code: 400, SubCode: 8508, Message: "Action failed, the operation was canceled."}
	ResultBadFile      = ResultInformation{Code: 400, SubCode: 8535, Message: "Action failed, file format is invalid."}
	ResultDownloadFail = ResultInformation{Code: 400, SubCode: 8536, Message: "Action failed, file could not be downloaded."}
	ResultTextEmpty    = ResultInformation{Code: 400, SubCode: 8582, Message: "Action failed, play source text or SSML is empty."}
	ResultSpeechError  = ResultInformation{Code: 400, SubCode: 8565, Message: "Action failed, the speech synthesizer rejected the request."}
	ResultPlayInternal = ResultInformation{Code: 500, SubCode: 9999, Message: "Unknown internal server error."}
)
