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

// RecognizeRequest is the body of …:recognize.
type RecognizeRequest struct {
	RecognizeInputType          string            `json:"recognizeInputType"`
	PlayPrompt                  *PlaySource       `json:"playPrompt,omitempty"`
	PlayPrompts                 []PlaySource      `json:"playPrompts,omitempty"`
	InterruptCallMediaOperation bool              `json:"interruptCallMediaOperation,omitempty"`
	RecognizeOptions            *RecognizeOptions `json:"recognizeOptions"`
	OperationContext            string            `json:"operationContext,omitempty"`
	OperationCallbackURI        string            `json:"operationCallbackUri,omitempty"`
}

// RecognizeOptions are recognizeOptions.
type RecognizeOptions struct {
	InterruptPrompt                bool             `json:"interruptPrompt,omitempty"`
	InitialSilenceTimeoutInSeconds *int             `json:"initialSilenceTimeoutInSeconds,omitempty"`
	TargetParticipant              *IdentifierModel `json:"targetParticipant"`
	SpeechLanguage                 string           `json:"speechLanguage,omitempty"`
	DTMFOptions                    *DTMFOptions     `json:"dtmfOptions,omitempty"`
	Choices                        []Choice         `json:"choices,omitempty"`
	SpeechOptions                  map[string]any   `json:"speechOptions,omitempty"`
}

// DTMFOptions are dtmfOptions.
type DTMFOptions struct {
	InterToneTimeoutInSeconds *int     `json:"interToneTimeoutInSeconds,omitempty"`
	MaxTonesToCollect         *int     `json:"maxTonesToCollect,omitempty"`
	StopTones                 []string `json:"stopTones,omitempty"`
}

// Choice is one option of a choices recognize.
type Choice struct {
	Label   string   `json:"label"`
	Phrases []string `json:"phrases"`
	Tone    string   `json:"tone,omitempty"`
}

// Recognize event names.
const (
	EventRecognizeCompleted = "RecognizeCompleted"
	EventRecognizeFailed    = "RecognizeFailed"
	EventRecognizeCanceled  = "RecognizeCanceled"
)

// RecognizeCompletedData is the data of RecognizeCompleted.
type RecognizeCompletedData struct {
	CallEventData
	RecognitionType string        `json:"recognitionType"`
	DTMFResult      *DTMFResult   `json:"dtmfResult,omitempty"`
	ChoiceResult    *ChoiceResult `json:"choiceResult,omitempty"`
	SpeechResult    *SpeechResult `json:"speechResult,omitempty"`
}

// SpeechResult is what free speech recognition heard.
type SpeechResult struct {
	Speech     string  `json:"speech"`
	Confidence float64 `json:"confidence"`
}

// DTMFResult is dtmfResult.
type DTMFResult struct {
	Tones []string `json:"tones"`
}

// ChoiceResult is choiceResult.
type ChoiceResult struct {
	Label            string  `json:"label"`
	RecognizedPhrase string  `json:"recognizedPhrase,omitempty"`
	Confidence       float64 `json:"confidence,omitempty"`
}

// RecognizeFailedData is the data of RecognizeFailed.
type RecognizeFailedData struct {
	CallEventData
	FailedPlaySourceIndex *int `json:"failedPlaySourceIndex,omitempty"`
}

// Recognize results.
var (
	ResultMaxTones         = ResultInformation{Code: 200, SubCode: 8531, Message: "Action completed, max digits received."}
	ResultStopTone         = ResultInformation{Code: 200, SubCode: 8514, Message: "Action completed as stop tone was detected."}
	ResultDTMFOption       = ResultInformation{Code: 200, SubCode: 8533, Message: "Action completed, DTMF option matched."}
	ResultInterToneTimeout = ResultInformation{Code: 200, SubCode: 8532, Message: "Action completed, inter-digit silence timeout reached."}
	ResultInitialSilence   = ResultInformation{Code: 400, SubCode: 8510, Message: "Action failed, initial silence timeout reached."}
	ResultIncorrectTone    = ResultInformation{Code: 400, SubCode: 8534, Message: "Action failed, incorrect tone entered."}
	ResultPromptFailed     = ResultInformation{Code: 400, SubCode: 8511, Message: "Action failed, encountered failure while trying to play the prompt."}

	ResultSpeechOption        = ResultInformation{Code: 200, SubCode: 8545, Message: "Action completed, speech option matched."}
	ResultSpeechRecognized    = ResultInformation{Code: 200, SubCode: 0, Message: "Action completed successfully."}
	ResultSpeechNoOption      = ResultInformation{Code: 400, SubCode: 8547, Message: "Action failed, speech option not matched."}
	ResultSpeechNotRecognized = ResultInformation{Code: 400, SubCode: 8563, Message: "Action failed, speech could not be recognized."}
	ResultSpeechServiceError  = ResultInformation{Code: 500, SubCode: 8564, Message: "Action failed, the speech recognition service failed."}
)

// toneNames are the Tone enum in DTMF digit order.
var toneNames = map[byte]string{
	'0': "zero", '1': "one", '2': "two", '3': "three", '4': "four", '5': "five", '6': "six", '7': "seven",
	'8': "eight", '9': "nine", 'A': "a", 'B': "b", 'C': "c", 'D': "d", '#': "pound", '*': "asterisk",
}

// ToneName returns the Tone enum value of a DTMF digit ('0'-'9', '*', '#', 'A'-'D').
func ToneName(digit byte) (string, bool) {
	n, ok := toneNames[digit]
	return n, ok
}

// ToneDigit returns the DTMF digit of a Tone enum value (case-insensitive).
func ToneDigit(name string) (byte, bool) {
	name = lower(name)
	for d, n := range toneNames {
		if n == name {
			return d, true
		}
	}
	return 0, false
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

// ContinuousDTMFRequest is the body of …:start/stopContinuousDtmfRecognition.
type ContinuousDTMFRequest struct {
	TargetParticipant    *IdentifierModel `json:"targetParticipant"`
	OperationContext     string           `json:"operationContext,omitempty"`
	OperationCallbackURI string           `json:"operationCallbackUri,omitempty"`
}

// HoldRequest is the body of …:hold; UnholdRequest of …:unhold.
type HoldRequest struct {
	TargetParticipant    *IdentifierModel `json:"targetParticipant"`
	PlaySourceInfo       *PlaySource      `json:"playSourceInfo,omitempty"`
	OperationContext     string           `json:"operationContext,omitempty"`
	OperationCallbackURI string           `json:"operationCallbackUri,omitempty"`
}

// Continuous DTMF and hold events.
const (
	EventContinuousToneReceived = "ContinuousDtmfRecognitionToneReceived"
	EventContinuousToneFailed   = "ContinuousDtmfRecognitionToneFailed"
	EventContinuousStopped      = "ContinuousDtmfRecognitionStopped"
	EventHoldFailed             = "HoldFailed"
)

// ToneReceivedData is the data of ContinuousDtmfRecognitionToneReceived.
type ToneReceivedData struct {
	CallEventData
	SequenceID int    `json:"sequenceId"`
	Tone       string `json:"tone"`
}

// SendDTMFRequest is the body of …:sendDtmfTones.
type SendDTMFRequest struct {
	Tones                []string         `json:"tones"`
	TargetParticipant    *IdentifierModel `json:"targetParticipant"`
	OperationContext     string           `json:"operationContext,omitempty"`
	OperationCallbackURI string           `json:"operationCallbackUri,omitempty"`
}

// SendDTMFResult is the response of …:sendDtmfTones.
type SendDTMFResult struct {
	OperationContext string `json:"operationContext,omitempty"`
}

// Send DTMF events.
const (
	EventSendDTMFCompleted = "SendDtmfTonesCompleted"
	EventSendDTMFFailed    = "SendDtmfTonesFailed"
)
